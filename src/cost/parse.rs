//! Parsers of the tools' reports: yosys `stat` (cells by kind, memory bits), `ltp` (longest path),
//! nextpnr-ice40's log (utilisation, Fmax, placement failure). Each returns `None` when the text
//! does not have the expected shape (the caller turns that into a parse error naming the file).

use std::collections::BTreeMap;

/// A yosys `stat` section: cells by kind and memory bits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stat {
    /// Total cells (submodule instances not counted).
    pub cells: u64,
    /// Cells by kind (`$_MUX_`, `$_SDFF_PP0_`, `SB_LUT4`, ...).
    pub by_kind: BTreeMap<String, u64>,
    /// Bits of memories not (yet) mapped to cells.
    pub memory_bits: u64,
}

/// The whole design's figures of a `stat` report: the `design hierarchy` section when the design has
/// submodules, else the one module's section.
pub fn stat(text: &str) -> Option<Stat> {
    let section = match text.find("=== design hierarchy ===") {
        Some(i) => &text[i..],
        None => &text[text.rfind("=== ")?..],
    };
    let mut st = Stat::default();
    let mut seen_cells = false;
    let mut in_cells = false;
    for line in section.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("Number of memory bits:") {
            st.memory_bits = v.trim().parse().ok()?;
            in_cells = false;
        } else if let Some(v) = t.strip_prefix("Number of cells:") {
            st.cells = v.trim().parse().ok()?;
            seen_cells = true;
            in_cells = true;
        } else if in_cells {
            let mut it = t.split_whitespace();
            match (it.next(), it.next(), it.next()) {
                (Some(kind), Some(n), None) => {
                    let Ok(n) = n.parse::<u64>() else { break };
                    // instances of submodules (hierarchical stat) are not cells of their own
                    if !kind.contains("\\") && !kind.starts_with("$paramod") {
                        *st.by_kind.entry(kind.to_string()).or_default() += n;
                    }
                }
                _ => in_cells = false,
            }
        }
    }
    if !seen_cells {
        return None;
    }
    // a hierarchical total counts only leaf cells; recompute it from the kinds
    if !st.by_kind.is_empty() {
        st.cells = st.by_kind.values().sum();
    }
    Some(st)
}

/// Flip-flops among cells by kind: every `DFF` kind (yosys `$_DFF_*`, `$_SDFFE_*`, `$dff`,
/// iCE40 `SB_DFF*`), one bit each after synthesis.
pub fn flip_flops(by_kind: &BTreeMap<String, u64>) -> u64 {
    by_kind.iter().filter(|(k, _)| k.to_ascii_lowercase().contains("dff")).map(|(_, n)| n).sum()
}

/// The longest path of `ltp`: (length in cells, start, end).
pub fn ltp(text: &str) -> Option<(u32, String, String)> {
    let i = text.find("(length=")?;
    let rest = &text[i + "(length=".len()..];
    let len: u32 = rest[..rest.find(')')?].parse().ok()?;
    let mut nodes =
        rest.lines().skip(1).filter_map(|l| l.trim().split_once(": ")).map(|(_, n)| node_name(n)).collect::<Vec<_>>();
    let end = nodes.pop().unwrap_or_default();
    let start = nodes.first().cloned().unwrap_or_default();
    Some((len, start, end))
}

fn node_name(s: &str) -> String {
    let n = s.split(" (via").next().unwrap_or(s).trim();
    n.trim_start_matches('\\').to_string()
}

/// What nextpnr-ice40 said.
#[derive(Debug, Clone, PartialEq)]
pub struct Pnr {
    /// Logic cells used and available.
    pub lcs: Option<(u64, u64)>,
    /// Block RAMs used and available.
    pub brams: Option<(u64, u64)>,
    /// I/O cells used and available.
    pub ios: Option<(u64, u64)>,
    /// Fmax after routing (the last report), MHz.
    pub fmax_mhz: Option<f64>,
    /// The first `ERROR:` line.
    pub error: Option<String>,
}

/// Parses a nextpnr-ice40 log.
pub fn nextpnr(text: &str) -> Pnr {
    let used = |name: &str| {
        text.lines().rev().find_map(|l| {
            let t = l.trim_start_matches("Info:").trim();
            let v = t.strip_prefix(name)?.trim_start().strip_prefix(':')?;
            let (a, b) = v.split_once('/')?;
            let b = b.split_whitespace().next()?;
            Some((a.trim().parse().ok()?, b.parse().ok()?))
        })
    };
    let fmax_mhz = text.lines().rev().find_map(|l| {
        let i = l.find("Max frequency for clock")?;
        let rest = &l[i..];
        let v = rest[rest.find("': ")? + 3..].split_whitespace().next()?;
        v.parse().ok()
    });
    let error = text.lines().find(|l| l.starts_with("ERROR:")).map(|l| l.trim().to_string());
    Pnr { lcs: used("ICESTORM_LC"), brams: used("ICESTORM_RAM"), ios: used("SB_IO"), fmax_mhz, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_hierarchy_total_and_flops() {
        let t = "=== m ===\n   Number of cells:  3\n     $_AND_  3\n\n=== design hierarchy ===\n\n   top 1\n     \
                 $paramod\\x 1\n\n   Number of memories: 1\n   Number of memory bits:  64\n   \
                 Number of processes: 0\n   Number of cells:  7\n     $_AND_  2\n     $_SDFF_PP0_  4\n     \
                 SB_DFFE 1\n\n";
        let s = stat(t).unwrap();
        assert_eq!((s.cells, s.memory_bits, flip_flops(&s.by_kind)), (7, 64, 5));
    }

    #[test]
    fn ltp_and_nextpnr() {
        let t = "Longest topological path in m (length=3):\n    0: \\a_q [1]\n    1: $x (via $c)\n    2: $y (via \
                 $d)\n    3: $z (via $e)\n    ff: \\b_q [0] (via $f)\n";
        assert_eq!(ltp(t).unwrap(), (3, "a_q [1]".into(), "b_q [0]".into()));
        let p = "Info: \t ICESTORM_LC:  2290/ 7680    29%\nInfo: \t ICESTORM_RAM: 0/ 32 0%\nInfo: Max frequency for \
                 clock 'clk': 25.03 MHz (FAIL at 50.00 MHz)\nWarning: Max frequency for clock 'clk': 24.00 MHz \
                 (FAIL at 50.00 MHz)\n";
        let r = nextpnr(p);
        assert_eq!((r.lcs, r.brams, r.fmax_mhz, r.error), (Some((2290, 7680)), Some((0, 32)), Some(24.0), None));
    }
}
