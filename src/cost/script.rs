//! The yosys scripts of a cost run and the pin wrapper of its FPGA flow.
//!
//! Generic flow (area, flip-flops, memory bits, logic levels): read the module, let `hierarchy
//! -libdir` load the modules it instantiates from `rtl/`, set the parameters with `-chparam`,
//! `proc`, assert that no latch was inferred, count memory bits before memories are mapped, `synth`,
//! `stat`, then `flatten; abc -g AND,...; ltp -noff` for the longest register-to-register path in
//! two-input gate levels.
//!
//! FPGA flow: the module inside a wrapper that XOR-folds all its outputs onto 16 pins (a whole top
//! has some 330 output bits, a front end at N = 16 about 150: more than the HX8K's 256 I/O), then
//! `synth_ice40 -json` for nextpnr-ice40. The fold sits between output registers and pins, so it
//! never lies on a clock-to-clock path; it costs a few dozen LUTs.

use std::fmt::Write as _;

use super::Unit;

/// Name of the generated wrapper module.
pub const WRAPPER: &str = "ws_cost_pins";

/// `-chparam NAME VALUE ...` for the parameters.
fn chparams(params: &[(String, i64)]) -> String {
    params.iter().map(|(n, v)| format!(" -chparam {n} {v}")).collect()
}

/// The generic flow: writes `mem.txt` (before memory mapping), `stat.txt` and `ltp.txt`.
pub fn generic(rtl: &str, module: &str, params: &[(String, i64)]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "verilog_defaults -add -I{rtl}");
    let _ = writeln!(s, "read_verilog {rtl}/{module}.v");
    let _ = writeln!(s, "hierarchy -check -libdir {rtl} -top {module}{}", chparams(params));
    s += "proc\n";
    s += "select -assert-none t:$dlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*\n";
    s += "opt_clean\n";
    s += "tee -q -o mem.txt stat\n";
    let _ = writeln!(s, "synth -top {module}");
    s += "tee -q -o stat.txt stat\n";
    s += "flatten\nopt_clean\nabc -g AND,NAND,OR,NOR,XOR,XNOR,MUX\nopt_clean\n";
    s += "tee -q -o ltp.txt ltp -noff\n";
    s
}

/// The FPGA synthesis: the wrapper (file `pins.v`) around the module, `synth_ice40` to `ice40.json`,
/// `stat` to `ice40_stat.txt`.
pub fn ice40(rtl: &str, params: &[(String, i64)]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "verilog_defaults -add -I{rtl}");
    s += "read_verilog pins.v\n";
    let _ = writeln!(s, "hierarchy -check -libdir {rtl} -top {WRAPPER}{}", chparams(params));
    s += "proc\n";
    s += "select -assert-none t:$dlatch t:$dlatchsr t:$_DLATCH_* t:$_DLATCHSR_*\n";
    let _ = writeln!(s, "synth_ice40 -top {WRAPPER} -json ice40.json");
    s += "tee -q -o ice40_stat.txt stat\n";
    s
}

/// Ports of a unit: (direction, name, width expression) in port order.
fn ports(unit: Unit) -> Vec<(&'static str, &'static str, &'static str)> {
    const TW: &str = "TW";
    match unit {
        Unit::FrontEnd => vec![
            ("input", "start_i", "1"),
            ("input", "cfg_rows_i", "16"),
            ("input", "cfg_cols_i", "32"),
            ("input", "s_w_data_i", "B"),
            ("input", "s_w_valid_i", "1"),
            ("input", "s_w_last_i", "1"),
            ("output", "s_w_ready_o", "1"),
            ("input", "m_beat_ready_i", "1"),
            ("output", "m_beat_data_o", "N*Q"),
            ("output", "m_beat_tile_o", TW),
            ("output", "m_beat_first_o", "1"),
            ("output", "m_beat_eoc_o", "1"),
            ("output", "m_beat_col_o", "4"),
            ("output", "m_beat_last_o", "1"),
            ("output", "m_beat_fire_o", "1"),
            ("output", "busy_o", "1"),
            ("output", "done_o", "1"),
            ("output", "error_o", "1"),
            ("output", "error_code_o", "4"),
            ("output", "starve_o", "1"),
        ],
        Unit::Top => vec![
            ("input", "start_i", "1"),
            ("input", "cfg_rows_i", "16"),
            ("input", "cfg_cols_i", "32"),
            ("input", "s_w_data_i", "B"),
            ("input", "s_w_valid_i", "1"),
            ("input", "s_w_last_i", "1"),
            ("output", "s_w_ready_o", "1"),
            ("input", "s_act_data_i", "QA"),
            ("input", "s_act_valid_i", "1"),
            ("output", "s_act_ready_o", "1"),
            ("output", "m_y_data_o", "ACC"),
            ("output", "m_y_valid_o", "1"),
            ("output", "m_y_last_o", "1"),
            ("input", "m_y_ready_i", "1"),
            ("output", "mon_beat_data_o", "N*Q"),
            ("output", "mon_beat_fire_o", "1"),
            ("output", "busy_o", "1"),
            ("output", "done_o", "1"),
            ("output", "error_o", "1"),
            ("output", "error_code_o", "4"),
            ("output", "cnt_cycles_o", "32"),
            ("output", "cnt_words_o", "32"),
            ("output", "cnt_beats_o", "32"),
            ("output", "cnt_starved_o", "32"),
            ("output", "cnt_stalled_o", "32"),
        ],
    }
}

/// The pin wrapper: the unit's inputs as pins, its outputs XOR-folded onto `obs_o[15:0]`.
pub fn wrapper(unit: Unit, module: &str, params: &[(String, i64)]) -> String {
    let ports = ports(unit);
    let mut s = String::new();
    s += "// generated by weightstream cost: the pins of the FPGA flow (outputs XOR-folded)\n";
    s += "`default_nettype none\n";
    let _ = writeln!(s, "module {WRAPPER} #(");
    let decls: Vec<String> = params.iter().map(|(n, v)| format!("    parameter integer {n} = {v}")).collect();
    s += &decls.join(",\n");
    s += "\n) (\n    input  wire clk,\n    input  wire rst,\n";
    for (dir, name, w) in ports.iter().filter(|p| p.0 == "input") {
        let _ = writeln!(s, "    {dir} wire [{w}-1:0] {name},");
    }
    s += "    output reg  [15:0] obs_o\n);\n";
    s += "localparam integer TW = (MAX_O+N-1)/N > 1 ? $clog2((MAX_O+N-1)/N) : 1;\n";
    let outs: Vec<_> = ports.iter().filter(|p| p.0 == "output").collect();
    for (_, name, w) in &outs {
        let _ = writeln!(s, "wire [{w}-1:0] {name};");
    }
    let _ = writeln!(s, "{module} #(");
    let conns: Vec<String> = params.iter().map(|(n, _)| format!("    .{n}({n})")).collect();
    s += &conns.join(",\n");
    s += "\n) u_dut (\n    .clk(clk),\n    .rst(rst)";
    for (_, name, _) in &ports {
        let _ = write!(s, ",\n    .{name}({name})");
    }
    s += "\n);\n";
    let cat: Vec<&str> = outs.iter().map(|p| p.1).collect();
    let widths: Vec<String> = outs.iter().map(|p| format!("({})", p.2)).collect();
    let _ = writeln!(s, "localparam integer OW = {};", widths.join(" + "));
    let _ = writeln!(s, "wire [OW-1:0] outs = {{{}}};", cat.join(", "));
    s += "integer i;\nalways @* begin\n    obs_o = 16'd0;\n    for (i = 0; i < OW; i = i + 1) begin\n";
    s += "        obs_o[i % 16] = obs_o[i % 16] ^ outs[i];\n    end\nend\nendmodule\n";
    s
}
