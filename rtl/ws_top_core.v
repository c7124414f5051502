// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream top: one per format, chosen by FORMAT
 *
 * bus words -> ws_decode_path -> ws_pe_array -> y
 *
 * ws_decode_path (u_decode) holds the 128-word FIFO, the aligner and the
 * format's decoder, chosen by FORMAT; it is also the core of ws_front_end,
 * the decoder alone that `weightstream cost` synthesizes.  Everything else
 * here (PE array, performance counters, status) is the same for every
 * format.  The bus fills the word FIFO at one word per cycle while it is
 * not full; the aligner takes up to M = ceil(WIN/B) words per cycle from
 * its head, so words banked during sparse stretches carry the dense ones.
 *
 * Every format has the same port list and parameters (R and P are unused
 * by the formats other than CSC but kept so one harness drives every top);
 * FORMAT codes, error codes and legal parameter ranges come from the table
 * rtl/ws_rtl.toml through the generated header ws_defs.vh.
 *
 * start_i (1-cycle pulse) latches O and K, clears status and counters and
 * begins a layer.  Bus words are accepted only during the decode phase.
 * done_o is set after y[O-1] has been output and the stream end has been
 * checked; error_o/error_code_o are set on the first error; both are sticky
 * until the next start_i.  After an error no word is accepted, no beat
 * fires and no y is output.
 */
module ws_top_core #(
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
    // activation bits
    parameter integer QA     = 8,
    // accumulator / output bits
    parameter integer ACC    = 32,
    // largest supported number of rows O
    parameter integer MAX_O  = 1280
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

// row tiles of the largest layer, and the tile index width
localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;

// parameter checks
generate
    // legal ranges: rtl/ws_rtl.toml through ws_defs.vh
    if (FORMAT < `WS_FMT_MIN || FORMAT > `WS_FMT_MAX ||
        N < `WS_N_MIN || N > `WS_N_MAX || Q < `WS_Q_MIN || Q > `WS_Q_MAX ||
        B < `WS_B_MIN || B > `WS_B_MAX || R < `WS_R_MIN || R > `WS_R_MAX ||
        P < `WS_P_MIN || P > `WS_P_MAX || QA < `WS_QA_MIN || QA > `WS_QA_MAX ||
        ACC < `WS_ACC_MIN || ACC > `WS_ACC_MAX || ACC < Q + QA ||
        MAX_O < `WS_MAX_O_MIN || MAX_O > `WS_MAX_O_MAX) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_top_core: illegal parameter combination (FORMAT %0d)", FORMAT);
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// activations a beat chooses from: nm's beats go group by group (m up to
// 2^max_log2_group), the others' column by column
localparam integer PE_AG = FORMAT == `WS_FMT_NM ? (1 << `WS_NM_MAXLM) : 1;

// decode path -> PE array
wire [N*Q-1:0]   beat_data;
wire [TW-1:0]    beat_tile;
wire             beat_first;
wire             beat_eoc;
wire [3:0]       beat_col;
wire             beat_last;
wire             beat_valid;
wire             beat_ready;

// decode path status
wire             dec_busy;
wire             dec_done;
wire             dec_error;
wire [3:0]       dec_code;
wire             dec_starve;
wire             fifo_empty;

wire             pe_busy;
wire             pe_done;

// word FIFO -> aligner -> the format's decoder
ws_decode_path #(
    .FORMAT(FORMAT),
    .N(N),
    .Q(Q),
    .B(B),
    .R(R),
    .P(P),
    .MAX_O(MAX_O),
    .BANK(0)
) u_decode (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
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
    .m_beat_ready_i(beat_ready),
    .busy_o(dec_busy),
    .done_o(dec_done),
    .error_o(dec_error),
    .error_code_o(dec_code),
    .starve_o(dec_starve),
    .buf_empty_o(fifo_empty)
);

ws_pe_array #(
    .N(N),
    .Q(Q),
    .QA(QA),
    .ACC(ACC),
    .MAX_O(MAX_O),
    .AG(PE_AG)
) u_pe (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
    .abort_i(dec_error),
    .out_en_i(dec_done),
    .s_beat_data_i(beat_data),
    .s_beat_tile_i(beat_tile),
    .s_beat_first_i(beat_first),
    .s_beat_eoc_i(beat_eoc),
    .s_beat_col_i(beat_col),
    .s_beat_last_i(beat_last),
    .s_beat_valid_i(beat_valid),
    .s_beat_ready_o(beat_ready),
    .s_act_data_i(s_act_data_i),
    .s_act_valid_i(s_act_valid_i),
    .s_act_ready_o(s_act_ready_o),
    .m_y_data_o(m_y_data_o),
    .m_y_valid_o(m_y_valid_o),
    .m_y_last_o(m_y_last_o),
    .m_y_ready_i(m_y_ready_i),
    .busy_o(pe_busy),
    .done_o(pe_done)
);

// performance counters
reg [31:0] cyc_q, cyc_d;
reg [31:0] words_q, words_d;
reg [31:0] beats_q, beats_d;
reg [31:0] starv_q, starv_d;
reg [31:0] stall_q, stall_d;

wire beat_fire = beat_valid && beat_ready;

always @* begin
    cyc_d   = cyc_q;
    words_d = words_q;
    beats_d = beats_q;
    starv_d = starv_q;
    stall_d = stall_q;

    if (dec_busy) begin
        cyc_d = cyc_q + 32'd1;
    end
    if (s_w_valid_i && s_w_ready_o) begin
        words_d = words_q + 32'd1;
    end
    if (beat_fire) begin
        beats_d = beats_q + 32'd1;
    end
    // starved: waiting for bits that are neither in the FIFO nor offered
    if (dec_starve && fifo_empty && !s_w_valid_i) begin
        starv_d = starv_q + 32'd1;
    end
    if (beat_valid && !beat_ready) begin
        stall_d = stall_q + 32'd1;
    end

    if (start_i) begin
        cyc_d   = 32'd0;
        words_d = 32'd0;
        beats_d = 32'd0;
        starv_d = 32'd0;
        stall_d = 32'd0;
    end
end

always @(posedge clk) begin
    if (rst) begin
        cyc_q   <= 32'd0;
        words_q <= 32'd0;
        beats_q <= 32'd0;
        starv_q <= 32'd0;
        stall_q <= 32'd0;
    end else begin
        cyc_q   <= cyc_d;
        words_q <= words_d;
        beats_q <= beats_d;
        starv_q <= starv_d;
        stall_q <= stall_d;
    end
end

assign mon_beat_data_o = beat_data;
assign mon_beat_fire_o = beat_fire;

assign busy_o       = pe_busy && !dec_error;
assign done_o       = pe_done;
assign error_o      = dec_error;
assign error_code_o = dec_code;

assign cnt_cycles_o  = cyc_q;
assign cnt_words_o   = words_q;
assign cnt_beats_o   = beats_q;
assign cnt_starved_o = starv_q;
assign cnt_stalled_o = stall_q;

endmodule

`resetall
`default_nettype wire
