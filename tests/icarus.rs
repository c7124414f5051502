//! (filled by the Icarus portability work)
