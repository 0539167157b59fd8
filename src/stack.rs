//! Polars plans SQL recursively, and in unoptimised builds its frames are large: a rule with a
//! few CTEs can overflow the 2 MiB stack of a test or worker thread. Heavy stages run on a thread
//! of their own with room to spare; the stack is reserved address space, not memory used.
const STACK_BYTES: usize = 256 * 1024 * 1024;

/// Run `f` on a thread with a large stack and return its result (a panic is passed on).
pub fn with_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        let handle =
            std::thread::Builder::new().name("hkaudit-stage".into()).stack_size(STACK_BYTES).spawn_scoped(scope, f);
        match handle {
            Ok(h) => match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(_) => thread_refused(),
        }
    })
}

#[allow(clippy::panic)]
fn thread_refused<T>() -> T {
    panic!("cannot start a worker thread: the system refused to create one")
}
