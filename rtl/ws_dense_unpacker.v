// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream dense unpacker
 *
 * Decodes the "dense" format: every weight of the layer in stream order
 * (column by column, row tile by row tile), Q bits each, LSB-first.  A beat
 * of a tile with L real lanes (L = N except in the last tile of a column,
 * L = O - t*N there) takes L*Q bits from the aligner window; lanes >= L are
 * zero.  One beat per cycle when the window holds enough bits.
 *
 * Pipelined: the one-cycle loop is only "the window holds L*Q bits" and
 * the consume back to the aligner; the window is captured into stage 1 of
 * ws_beat_pipe and the beat (lanes >= L zeroed) leaves from stage 2, two
 * cycles after its bits were consumed.
 *
 * Beat side band: tile index t, first column (k == 0), end of column (last
 * tile), last beat of the layer.
 *
 * The beat sequence (tile t / column k counters, real lanes L, last beat,
 * configuration, truncation and end-of-stream checks) is the shared
 * ws_beat_sequencer (u_seq).
 *
 * Errors (sticky until start_i; code on error_code_o):
 *   1 truncated: the final word is in the aligner and the window cannot
 *     hold the next beat
 *   4 trailing data: after the last beat the buffer holds more than the
 *     zero padding of the final word, or the final word is not in the aligner
 *   5 bad configuration: O == 0, O > MAX_O or K == 0
 */
module ws_dense_unpacker #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // bus word bits (sizes the aligner count)
    parameter integer B     = 64,
    // largest supported number of rows O
    parameter integer MAX_O = 1280
) (
    // clock
    input  wire                                 clk,
    // synchronous active-high reset
    input  wire                                 rst,

    // 1-cycle pulse: latch the configuration and begin a layer
    input  wire                                 start_i,
    // configuration: rows O
    input  wire [15:0]                          cfg_rows_i,
    // configuration: columns K
    input  wire [31:0]                          cfg_cols_i,

    // aligner window: next stream bits, bit 0 first
    input  wire [N*Q-1:0]                       win_data_i,
    // aligner window: number of buffered bits
    input  wire [$clog2(2*N*Q+3*B+1)-1:0]         win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: bits the current beat takes when it fires
    output wire [$clog2(N*Q+1)-1:0]             win_need_o,
    // aligner window: the beat fires, consuming win_need_o bits
    output wire                                 win_pick_o,
    // aligner window: word FIFO intake and aligner take enable (registered)
    output wire                                 win_en_o,

    // beat output: N lanes of Q bits, lane l in bits [l*Q +: Q]
    output wire [N*Q-1:0]                       m_beat_data_o,
    // beat output: row tile index t
    output wire [((MAX_O+N-1)/N > 1 ? $clog2((MAX_O+N-1)/N) : 1)-1:0] m_beat_tile_o,
    // beat output: first column (k == 0)
    output wire                                 m_beat_first_o,
    // beat output: last tile of the column
    output wire                                 m_beat_eoc_o,
    // beat output: last beat of the layer
    output wire                                 m_beat_last_o,
    // beat output: valid
    output wire                                 m_beat_valid_o,
    // beat output: ready
    input  wire                                 m_beat_ready_i,

    // status: decode phase (from start until the last beat fired)
    output wire                                 busy_o,
    // status: layer decoded and stream end checked (sticky)
    output wire                                 done_o,
    // status: error (sticky)
    output wire                                 error_o,
    // status: error code (0 none, 1 truncated, 4 trailing, 5 configuration)
    output wire [3:0]                           error_code_o,
    // status: decode phase waiting for input bits
    output wire                                 starve_o
);

localparam integer WIN   = N*Q;
localparam integer CNT_W = $clog2(2*WIN + 3*B + 1);
localparam integer CW    = $clog2(WIN + 1);
localparam integer RW    = $clog2(MAX_O + 1);
localparam integer RBW   = $clog2(MAX_O + N + 1);
localparam integer LW    = $clog2(N + 1);

localparam [CW-1:0]  Q_C     = Q[CW-1:0];

// parameter checks
generate
    if (N < 1 || Q < 1 || B < 1 || MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_dense_unpacker: need N, Q, B >= 1 and 1 <= MAX_O <= 65535");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// beat sequence: tile/column counters, configuration and end-of-stream checks
localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;
// raw record: window, lanes, tile, first, eoc, last
localparam integer RAW_W = N*Q + LW + TW + 3;
// beat record: lanes, tile, first, eoc, last
localparam integer OUT_W = N*Q + TW + 3;

// ---- the loop: a beat is L*Q bits ------------------------------------------
wire           running;
wire [LW-1:0]  lanes;
wire [TW-1:0]  tile;
wire           first;
wire           eoc;
wire           last;
wire           pipe_ready;
wire           pipe_busy;
wire [LW-1:0]  unused_lanes_nx;
wire [LW-1:0]  unused_lanes_nx_next;
wire           pipe_valid;
wire [RW-1:0]  unused_rows;
wire [RBW-1:0] unused_rbase;
wire [RW-1:0]  unused_rleft;

wire [CW-1:0]  need    = {{(CW-LW){1'b0}}, lanes} * Q_C;
wire           enough  = win_count_i >= {{(CNT_W-CW){1'b0}}, need};
wire           fire    = running && enough && pipe_ready;

ws_beat_sequencer #(
    .N(N),
    .MAX_O(MAX_O)
) u_seq (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
    // every beat ends its tile's (one-column) group
    .grp_col0_i(1'b1),
    .grp_lcol_i(1'b1),
    .grp_last_i(1'b0),
    .fire_i(fire),
    .wait_i(!enough),
    // no format errors beyond truncation
    .err_i(1'b0),
    .err_code_i(`WS_ERR_NONE),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
    .running_o(running),
    .rows_o(unused_rows),
    .tile_o(tile),
    .rbase_o(unused_rbase),
    .rleft_o(unused_rleft),
    .lanes_o(lanes),
    .lanes_nx_o(unused_lanes_nx),
    .lanes_nx_next_o(unused_lanes_nx_next),
    .first_o(first),
    .eoc_o(eoc),
    .last_o(last),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o)
);

// ---- stage 1 -> stage 2: zero the lanes >= L ---------------------------------
wire [RAW_W-1:0] raw;
wire [OUT_W-1:0] beat;
wire [N*Q-1:0]   raw_win   = raw[RAW_W-1 -: N*Q];
wire [LW-1:0]    raw_lanes = raw[TW+3 +: LW];
wire [N*Q-1:0]   ext_data;

genvar l;
generate
    for (l = 0; l < N; l = l + 1) begin : g_lane
        localparam [LW-1:0] L_IDX = l;
        assign ext_data[l*Q +: Q] = (L_IDX < raw_lanes) ? raw_win[l*Q +: Q] : {Q{1'b0}};
    end
endgenerate

ws_beat_pipe #(
    .RAW_W(RAW_W),
    .OUT_W(OUT_W)
) u_pipe (
    .clk(clk),
    .rst(rst),
    .flush_i(start_i || error_o),
    .s_raw_i({win_data_i, lanes, tile, first, eoc, last}),
    .s_fire_i(fire),
    .s_ready_o(pipe_ready),
    .raw_o(raw),
    .ext_i({ext_data, raw[TW+2:0]}),
    .m_data_o(beat),
    .m_valid_o(pipe_valid),
    .m_ready_i(m_beat_ready_i),
    .busy_o(pipe_busy)
);


assign m_beat_data_o  = beat[OUT_W-1 -: N*Q];
assign m_beat_tile_o  = beat[3 +: TW];
assign m_beat_first_o = beat[2];
assign m_beat_eoc_o   = beat[1];
assign m_beat_last_o  = beat[0];
// a beat never leaves once an error is flagged (the pipeline is flushed next)
assign m_beat_valid_o = pipe_valid && !error_o;
assign win_need_o     = need;
assign win_pick_o     = fire;
assign win_en_o       = running;

assign busy_o       = running || pipe_busy;
assign starve_o     = running && !enough;

endmodule

`resetall
`default_nettype wire
