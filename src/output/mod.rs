//! Everything a person or a program reads: terminal tables, the summary,
//! CSV tables, charts, the HTML page and the report folder that holds them.

pub mod charts;
pub mod csv;
pub mod html;
pub mod live;
pub mod report;
pub mod summary;
pub mod terminal;
pub mod timefmt;
