// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream front end, for synthesis cost (`weightstream cost`)
 *
 * The part of ws_top_core that depends on the stream format, alone:
 *
 *   input regs -> ws_decode_path (BANK = 1) -> output regs
 *
 * i.e. the aligner and the format's decoder (with its ws_beat_sequencer),
 * the same ws_decode_path as in ws_top_core but with an M-word ws_word_bank
 * in place of the 128-word FIFO, and without the PE array, registered at
 * every input and output so that every timing path measured is register to
 * register and the front end's own.
 *
 * start_i, cfg_rows_i, cfg_cols_i and m_beat_ready_i are registered before
 * use (start, configuration and ready act one cycle later than at
 * ws_top_core).  The outputs are registered copies: m_beat_fire_o is high
 * the cycle after a beat fired into the (registered) sink, with that beat
 * in m_beat_* (held until the next fire); the status is the decoder's,
 * one cycle late.
 *
 * QA and ACC size only the PE array, which is not here; they are kept so
 * that one parameter list (ws_top_core's) serves both modules, and are
 * only checked (ACC >= Q + QA) like at ws_top_core, which is their use.
 */
module ws_front_end #(
    // stream format: 0 dense, 1 bitmap, 2 delta+bitmap, 3 CSC
    parameter integer FORMAT = 1,
    // lanes per beat (rows per tile)
    parameter integer N      = 16,
    // weight bits
    parameter integer Q      = 8,
    // bus word bits
    parameter integer B      = 64,
    // CSC run bits (sizes the window of FORMAT 3 only)
    parameter integer R      = 4,
    // CSC count bits (sizes the window of FORMAT 3 only)
    parameter integer P      = 16,
    // activation bits (PE array only: checked, not used here)
    parameter integer QA     = 8,
    // accumulator bits (PE array only: checked, not used here)
    parameter integer ACC    = 32,
    // largest supported number of rows O
    parameter integer MAX_O  = 1280
) (
    // clock
    input  wire             clk,
    // synchronous active-high reset
    input  wire             rst,

    // 1-cycle pulse: latch cfg, clear the bank, aligner and decoder, begin a layer
    input  wire             start_i,
    // configuration: rows O
    input  wire [15:0]      cfg_rows_i,
    // configuration: columns K
    input  wire [31:0]      cfg_cols_i,

    // weight stream words: data (stream bit j*B + i in bit i of word j)
    input  wire [B-1:0]     s_w_data_i,
    // weight stream words: valid
    input  wire             s_w_valid_i,
    // weight stream words: final word of the layer
    input  wire             s_w_last_i,
    // weight stream words: ready (registered state only)
    output wire             s_w_ready_o,

    // beat sink: ready (registered before it reaches the decoder)
    input  wire             m_beat_ready_i,
    // fired beat: N lanes of Q bits, lane l in bits [l*Q +: Q]
    output wire [N*Q-1:0]   m_beat_data_o,
    // fired beat: row tile index t
    output wire [((MAX_O+N-1)/N > 1 ? $clog2((MAX_O+N-1)/N) : 1)-1:0] m_beat_tile_o,
    // fired beat: first column (k == 0)
    output wire             m_beat_first_o,
    // fired beat: last tile of the column
    output wire             m_beat_eoc_o,
    // fired beat: nm: column j within the group (0 for the other formats)
    output wire [3:0]       m_beat_col_o,
    // fired beat: last beat of the layer
    output wire             m_beat_last_o,
    // a beat fired in the previous cycle (it is in m_beat_*)
    output wire             m_beat_fire_o,

    // status: decode phase (registered copy of the decoder's)
    output wire             busy_o,
    // status: layer decoded and stream end checked (sticky until start)
    output wire             done_o,
    // status: error (sticky until start)
    output wire             error_o,
    // status: error code (1 truncated, 2 count > O, 3 row >= O, 4 trailing, 5 cfg)
    output wire [3:0]       error_code_o,
    // status: decode phase waiting for input bits
    output wire             starve_o
);

// row tile index width
localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;

// parameter checks (those of ws_top_core)
generate
    // legal ranges: rtl/ws_rtl.toml through ws_defs.vh
    if (FORMAT < `WS_FMT_MIN || FORMAT > `WS_FMT_MAX ||
        N < `WS_N_MIN || N > `WS_N_MAX || Q < `WS_Q_MIN || Q > `WS_Q_MAX ||
        B < `WS_B_MIN || B > `WS_B_MAX || R < `WS_R_MIN || R > `WS_R_MAX ||
        P < `WS_P_MIN || P > `WS_P_MAX || QA < `WS_QA_MIN || QA > `WS_QA_MAX ||
        ACC < `WS_ACC_MIN || ACC > `WS_ACC_MAX || ACC < Q + QA ||
        MAX_O < `WS_MAX_O_MIN || MAX_O > `WS_MAX_O_MAX) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_front_end: illegal parameter combination (FORMAT %0d)", FORMAT);
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// ---------------------------------------------------------------------------
// input registers
// ---------------------------------------------------------------------------
reg          start_q;
reg [15:0]   rows_q;
reg [31:0]   cols_q;
reg          ready_q;

always @(posedge clk) begin
    if (rst) begin
        start_q <= 1'b0;
        rows_q  <= 16'd0;
        cols_q  <= 32'd0;
        ready_q <= 1'b0;
    end else begin
        start_q <= start_i;
        rows_q  <= cfg_rows_i;
        cols_q  <= cfg_cols_i;
        ready_q <= m_beat_ready_i;
    end
end

// ---------------------------------------------------------------------------
// decode path: M-word bank -> aligner -> the format's decoder
// ---------------------------------------------------------------------------
// decode path -> output registers
wire [N*Q-1:0]   beat_data;
wire [TW-1:0]    beat_tile;
wire             beat_first;
wire             beat_eoc;
wire [3:0]       beat_col;
wire             beat_last;
wire             beat_valid;

// decode path status
wire             dec_busy;
wire             dec_done;
wire             dec_error;
wire [3:0]       dec_code;
wire             dec_starve;
// the front end counts no starved cycles: the bank's empty flag is not needed
/* verilator lint_off UNUSEDSIGNAL */
wire             bank_empty;
/* verilator lint_on UNUSEDSIGNAL */

ws_decode_path #(
    .FORMAT(FORMAT),
    .N(N),
    .Q(Q),
    .B(B),
    .R(R),
    .P(P),
    .MAX_O(MAX_O),
    .BANK(1)
) u_decode (
    .clk(clk),
    .rst(rst),
    .start_i(start_q),
    .cfg_rows_i(rows_q),
    .cfg_cols_i(cols_q),
    .s_w_data_i(s_w_data_i),
    .s_w_valid_i(s_w_valid_i),
    .s_w_last_i(s_w_last_i),
    .s_w_ready_o(s_w_ready_o),
    .m_beat_data_o(beat_data),
    .m_beat_tile_o(beat_tile),
    .m_beat_first_o(beat_first),
    .m_beat_eoc_o(beat_eoc),
    .m_beat_col_o(beat_col),
    .m_beat_last_o(beat_last),
    .m_beat_valid_o(beat_valid),
    .m_beat_ready_i(ready_q),
    .busy_o(dec_busy),
    .done_o(dec_done),
    .error_o(dec_error),
    .error_code_o(dec_code),
    .starve_o(dec_starve),
    .buf_empty_o(bank_empty)
);

// ---------------------------------------------------------------------------
// output registers
// ---------------------------------------------------------------------------
wire beat_fire = beat_valid && ready_q;

reg [N*Q-1:0] out_data_q;
reg [TW-1:0]  out_tile_q;
reg           out_first_q;
reg           out_eoc_q;
reg [3:0]     out_col_q;
reg           out_last_q;
reg           out_fire_q;
reg           busy_q;
reg           done_q;
reg           error_q;
reg [3:0]     code_q;
reg           starve_q;

always @(posedge clk) begin
    if (rst) begin
        out_data_q  <= {N*Q{1'b0}};
        out_tile_q  <= {TW{1'b0}};
        out_first_q <= 1'b0;
        out_eoc_q   <= 1'b0;
        out_col_q   <= 4'd0;
        out_last_q  <= 1'b0;
        out_fire_q  <= 1'b0;
        busy_q      <= 1'b0;
        done_q      <= 1'b0;
        error_q     <= 1'b0;
        code_q      <= 4'd0;
        starve_q    <= 1'b0;
    end else begin
        if (beat_fire) begin
            out_data_q  <= beat_data;
            out_tile_q  <= beat_tile;
            out_first_q <= beat_first;
            out_eoc_q   <= beat_eoc;
            out_col_q   <= beat_col;
            out_last_q  <= beat_last;
        end
        out_fire_q <= beat_fire;
        busy_q     <= dec_busy;
        done_q     <= dec_done;
        error_q    <= dec_error;
        code_q     <= dec_code;
        starve_q   <= dec_starve;
    end
end

assign m_beat_data_o  = out_data_q;
assign m_beat_tile_o  = out_tile_q;
assign m_beat_first_o = out_first_q;
assign m_beat_eoc_o   = out_eoc_q;
assign m_beat_col_o   = out_col_q;
assign m_beat_last_o  = out_last_q;
assign m_beat_fire_o  = out_fire_q;

assign busy_o       = busy_q;
assign done_o       = done_q;
assign error_o      = error_q;
assign error_code_o = code_q;
assign starve_o     = starve_q;

endmodule

`resetall
`default_nettype wire
