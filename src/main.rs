//! The binary edge: parse arguments, run one subcommand, turn its outcome into an exit code.
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
