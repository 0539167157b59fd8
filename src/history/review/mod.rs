//! Quarterly access review as a campaign: `review start` assigns every grant of a snapshot to one
//! reviewer and writes each reviewer a workbook; `review status` reads what came back; `review
//! close` checks the decisions against a newer snapshot and writes the closure with an evidence
//! pack; `review verify` checks the pack. Everything is files in one campaign folder.
pub mod assign;
pub mod campaign;
pub mod close;
pub mod evidence;
pub mod status;
pub mod workbook;

pub use campaign::{
    referenced_snapshots, start, Campaign, InputItem, Item, Reference, ReviewInput, Reviewer, StartOptions, Started,
    CAMPAIGN_JSON, RETURNED_DIR, WORKBOOKS_DIR,
};
pub use close::{close, CloseOptions, Closed, Outcome};
pub use evidence::{verify, Verified, EVIDENCE_DIR, SUMS};
pub use status::{status, Counts, State, Status};
