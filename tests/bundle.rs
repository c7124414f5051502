//! (filled by the report-bundle work)
