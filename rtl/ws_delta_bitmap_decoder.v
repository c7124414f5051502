// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream delta+bitmap decoder
 *
 * The stream holds D[o][k] = (W[o][k] - W[o][k-1]) mod 2^Q (W[o][-1] = 0)
 * coded exactly as the bitmap format.  A ws_bitmap_decoder decodes the D
 * beats; a ws_delta_stage adds the previous weight of every row:
 *   W[o][k] = (W[o][k-1] + D[o][k]) mod 2^Q,  W[o][-1] = 0
 * The per-row state is a memory of T = ceil(MAX_O/N) entries of N*Q bits
 * indexed by the tile t of the beat, with one synchronous read port and one
 * write port (block RAM): a stage 3 after the bitmap decoder's two.  Entry
 * t is read as the D beat moves into stage 3 (taken as zero when k == 0,
 * so no clearing pass is needed) and written with the beat's weights when
 * it leaves stage 3; when the beat leaving writes the tile the next beat
 * reads (O <= N: every beat), the written weights are forwarded.  Lanes
 * past O decode to 0.
 *
 * Errors and status are those of the bitmap decoder (1 truncated,
 * 4 trailing data, 5 bad configuration).
 */
module ws_delta_bitmap_decoder #(
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
    input  wire [N*Q+N-1:0]                     win_data_i,
    // aligner window: the funnel shifted by the pointer's low min(3, log2 B)
    // bits (see ws_bit_aligner)
    input  wire [((N*Q+N+2*B-2)/B+(N*Q+N+B-1)/B)*B-1:0] win_lo_i,
    // aligner window: its bit pointer
    input  wire [$clog2(B)-1:0]                 win_ptr_i,
    // aligner window: number of buffered bits
    input  wire [$clog2(2*(N*Q+N)+3*B+1)-1:0]       win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: the lengths the current beat can take, candidate k
    // in bits [k*CW +: CW]: 0 its values, 1 its values and the next beat's
    // mask, 2 loading its mask
    output wire [3*$clog2(N*Q+N+1)-1:0]         win_need_o,
    // aligner window: one-hot pick of the candidate consumed (or none)
    output wire [2:0]                           win_pick_o,
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

localparam integer T  = (MAX_O + N - 1) / N;
localparam integer TW = T > 1 ? $clog2(T) : 1;

// D beats from the bitmap decoder
wire [N*Q-1:0] d_data;
wire [TW-1:0]  d_tile;
wire           d_first;
wire           d_eoc;
wire           d_last;
wire           d_valid;
wire           d_ready;
wire           d_busy;

ws_bitmap_decoder #(
    .N(N),
    .Q(Q),
    .B(B),
    .MAX_O(MAX_O)
) u_bitmap (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
    .win_data_i(win_data_i),
    .win_lo_i(win_lo_i),
    .win_ptr_i(win_ptr_i),
    .win_count_i(win_count_i),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
    .win_need_o(win_need_o),
    .win_pick_o(win_pick_o),
    .win_en_o(win_en_o),
    .m_beat_data_o(d_data),
    .m_beat_tile_o(d_tile),
    .m_beat_first_o(d_first),
    .m_beat_eoc_o(d_eoc),
    .m_beat_last_o(d_last),
    .m_beat_valid_o(d_valid),
    .m_beat_ready_i(d_ready),
    .busy_o(d_busy),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o),
    .starve_o(starve_o)
);

// ---- stage 3: the running sum ------------------------------------------------
wire d3_busy;

ws_delta_stage #(
    .N(N),
    .Q(Q),
    .MAX_O(MAX_O),
    .TW(TW)
) u_delta (
    .clk(clk),
    .rst(rst),
    .flush_i(start_i || error_o),
    .hold_i(error_o),
    .s_data_i(d_data),
    .s_tile_i(d_tile),
    .s_first_i(d_first),
    .s_eoc_i(d_eoc),
    .s_last_i(d_last),
    .s_valid_i(d_valid),
    .s_ready_o(d_ready),
    .m_data_o(m_beat_data_o),
    .m_tile_o(m_beat_tile_o),
    .m_first_o(m_beat_first_o),
    .m_eoc_o(m_beat_eoc_o),
    .m_last_o(m_beat_last_o),
    .m_valid_o(m_beat_valid_o),
    .m_ready_i(m_beat_ready_i),
    .busy_o(d3_busy)
);

assign busy_o = d_busy || d3_busy;

endmodule

`resetall
`default_nettype wire
