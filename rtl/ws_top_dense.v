// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream top: dense format
 *
 * bus words -> ws_word_fifo -> ws_bit_aligner -> ws_dense_unpacker -> ws_pe_array -> y
 *
 * A thin wrapper: ws_top_core with FORMAT = 0 holds the word FIFO, the
 * aligner, the ws_dense_unpacker, the PE array, the counters and the
 * status (see ws_top_core for the data path).
 *
 * All ws_top_<fmt> modules share this port list (R and P are unused by
 * this format but kept so one harness drives every top).
 *
 * start_i (1-cycle pulse) latches O and K, clears status and counters and
 * begins a layer.  Bus words are accepted only during the decode phase.
 * done_o is set after y[O-1] has been output and the stream end has been
 * checked; error_o/error_code_o are set on the first error; both are sticky
 * until the next start_i.  After an error no word is accepted, no beat
 * fires and no y is output.
 */
module ws_top_dense #(
    // lanes per beat (rows per tile)
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // bus word bits
    parameter integer B     = 64,
    // CSC run bits (unused by this format)
    parameter integer R     = 4,
    // CSC count bits (unused by this format)
    parameter integer P     = 16,
    // activation bits
    parameter integer QA    = 8,
    // accumulator / output bits
    parameter integer ACC   = 32,
    // largest supported number of rows O
    parameter integer MAX_O = 1280
) (
    // clock
    input  wire             clk,
    // synchronous active-high reset
    input  wire             rst,

    // 1-cycle pulse: latch cfg, clear status/counters, begin a layer
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
    // weight stream words: ready
    output wire             s_w_ready_o,

    // activations a[0..K): data (QA-bit signed)
    input  wire [QA-1:0]    s_act_data_i,
    // activations: valid
    input  wire             s_act_valid_i,
    // activations: ready
    output wire             s_act_ready_o,

    // results y[0..O): data (ACC-bit two's complement)
    output wire [ACC-1:0]   m_y_data_o,
    // results: valid
    output wire             m_y_valid_o,
    // results: last (y[O-1])
    output wire             m_y_last_o,
    // results: ready
    input  wire             m_y_ready_i,

    // monitor: the beat entering the PE array
    output wire [N*Q-1:0]   mon_beat_data_o,
    // monitor: the beat fires this cycle
    output wire             mon_beat_fire_o,

    // status: layer in progress
    output wire             busy_o,
    // status: layer done (sticky until start_i)
    output wire             done_o,
    // status: error (sticky until start_i)
    output wire             error_o,
    // status: error code (1 truncated, 2 count > O, 3 row >= O, 4 trailing, 5 cfg)
    output wire [3:0]       error_code_o,

    // counter: decode-phase cycles (start until the last beat fired)
    output wire [31:0]      cnt_cycles_o,
    // counter: bus words accepted
    output wire [31:0]      cnt_words_o,
    // counter: beats fired into the PE array
    output wire [31:0]      cnt_beats_o,
    // counter: decode cycles waiting for input bits, FIFO empty, s_w_valid_i low
    output wire [31:0]      cnt_starved_o,
    // counter: decode cycles with a beat ready but the PE array not
    output wire [31:0]      cnt_stalled_o
);

// the core with the dense unpacker (FORMAT 0)
ws_top_core #(
    .FORMAT(0),
    .N(N),
    .Q(Q),
    .B(B),
    .R(R),
    .P(P),
    .QA(QA),
    .ACC(ACC),
    .MAX_O(MAX_O)
) u_core (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
    .s_w_data_i(s_w_data_i),
    .s_w_valid_i(s_w_valid_i),
    .s_w_last_i(s_w_last_i),
    .s_w_ready_o(s_w_ready_o),
    .s_act_data_i(s_act_data_i),
    .s_act_valid_i(s_act_valid_i),
    .s_act_ready_o(s_act_ready_o),
    .m_y_data_o(m_y_data_o),
    .m_y_valid_o(m_y_valid_o),
    .m_y_last_o(m_y_last_o),
    .m_y_ready_i(m_y_ready_i),
    .mon_beat_data_o(mon_beat_data_o),
    .mon_beat_fire_o(mon_beat_fire_o),
    .busy_o(busy_o),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o),
    .cnt_cycles_o(cnt_cycles_o),
    .cnt_words_o(cnt_words_o),
    .cnt_beats_o(cnt_beats_o),
    .cnt_starved_o(cnt_starved_o),
    .cnt_stalled_o(cnt_stalled_o)
);

endmodule

`resetall
`default_nettype wire
