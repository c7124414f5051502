//! (filled by the compression-study work)
