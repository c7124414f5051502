//! The report as Markdown: the terminal tables as pipe tables, with a legend.

use std::io::{self, Write};

use super::table::{
    breakdown_grid, delivered_grid, delivered_note, layer_grid, not_applicable_lines, preamble, remainder_line,
    rtl_grid, Grid,
};
use super::{Report, Reporter};

/// GitHub-flavoured Markdown.
pub struct MarkdownReporter;

fn write_grid(g: &Grid, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "| {} |", g.header.join(" | "))?;
    let align: Vec<&str> = (0..g.header.len()).map(|i| if i == 0 { ":--" } else { "--:" }).collect();
    writeln!(out, "| {} |", align.join(" | "))?;
    for row in &g.rows {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

impl Reporter for MarkdownReporter {
    fn write(&self, r: &Report, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "# Weight stream bandwidth: {}\n", r.model)?;
        for line in preamble(r) {
            writeln!(out, "- {line}")?;
        }
        writeln!(out, "\n## Per layer\n")?;
        write_grid(&layer_grid(r), out)?;
        if let Some(g) = rtl_grid(r) {
            writeln!(out, "\n## RTL co-simulation\n")?;
            write_grid(&g, out)?;
        }
        writeln!(out, "\n## Where the bits go (all layers)\n")?;
        write_grid(&breakdown_grid(r), out)?;
        for line in not_applicable_lines(r) {
            writeln!(out, "\n{line}")?;
        }
        writeln!(out, "\n## Delivered weights per second (all layers)\n")?;
        write_grid(&delivered_grid(r), out)?;
        writeln!(out, "\n{}\n", delivered_note(r))?;
        writeln!(out, "{}\n", remainder_line(r))?;
        writeln!(
            out,
            "Legend: density = nonzero fraction of W; kept w² = share of the float weights' sum of w² that \
             pruning keeps (a cheap proxy, not accuracy); d.delta = of D (difference along k); H = order-0 \
             entropy bound in bits per weight; words = B-bit bus words on the wire; x = dense bits / format bits; \
             saved% = bus words saved against dense; n/a = the format does not apply to the layer (nm on a layer \
             that is not n:m); blocks = row blocks of at most MAX_O rows a layer runs \
             as, sizes summed over them. Every size comes from a stream that decoded back bit-exact."
        )
    }
}
