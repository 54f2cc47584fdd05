//! The sales pipeline (issue #17): pipelines and their stages, lost reasons
//! ([`setup`]), and opportunities — created, read within the owner scope, moved between
//! stages with optimistic locking and a history row per move, shown on a kanban and summed
//! into a weighted forecast ([`deals`]). Every move is an event on the customer's timeline.

pub mod deals;
pub mod setup;

pub use deals::{
    Board, BoardColumn, DealFilter, DealPage, ForecastRow, Opportunity, OpportunityCard,
    PipelineFigures, SourceFigures, StageChange, StageTime,
};
pub use setup::{LostReason, Pipeline, Stage};
