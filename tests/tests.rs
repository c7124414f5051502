//! The one integration-test binary: topic modules share `util`.

mod cli;
mod formats_examples;
mod formats_props;
mod loaders;
mod malformed;
mod quantize;
mod report;
mod util;
