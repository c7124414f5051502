// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream decode path: the part of a top that depends on the format
 *
 *   bus words -> input buffer -> ws_bit_aligner -> the format's decoder -> beats
 *
 * The decoder is chosen by FORMAT (labelled generate block g_<fmt>) and
 * sizes the aligner window WIN, the widest beat of the format:
 *   dense                     WIN = N*Q
 *   bitmap, delta+bitmap      WIN = N*Q + N
 *   bitmap-huffman, delta     WIN = N + W: a mask and W >= H bits of codes
 *                             (up to S = min(N, 4) codes per cycle, as many
 *                             as end in the window)
 *   lane-huffman, delta       WIN = C*RC + N: RC = ceil(N / LPC) chunks of C
 *                             bits and the next beat's mask (at least CPC
 *                             header counts of Q bits)
 *   nm                        WIN = max(N*(4+Q), 8): a beat of N entries
 *                             (positions of up to 4 bits), the header
 *   CSC                       WIN = N*(R+Q) + LA: a group of N entries
 *                             and a look-ahead of LA <= max(P, R) bits for
 *                             the count or run after it, only as many as
 *                             the group's bus words leave spare (WIN >= P)
 * The decoder offers the aligner K candidate lengths per cycle: 4 for CSC
 * (group, group and count, count, one entry), 3 for the bitmap formats
 * (values; values and the next mask; a mask load), 2*RC + 3 for
 * lane-huffman (a header field or a mask load; i chunks; i chunks and the
 * next mask, i = 0..RC), 1 for dense, bitmap-huffman and nm.  Aligner
 * options by format: SHIFT_OH (one-hot low pointer bits for the window
 * shift) for the bitmap formats, whose next mask is selected from the
 * aligner's split window; TAIL_TH (registered pointer thermometer for the
 * end-of-stream check) for dense and nm.
 * The aligner takes up to M = ceil(WIN/B) words per cycle from the input
 * buffer, which is chosen by BANK:
 *   0  ws_word_fifo of 128 words (a power of two >= M): words banked during
 *      sparse stretches carry the dense ones (ws_top_core);
 *   1  ws_word_bank of M words: the decoder's own cost alone (ws_front_end).
 *
 * Shared by ws_top_core and ws_front_end, so the two cannot drift apart.
 */
module ws_decode_path #(
    // stream format (codes: rtl/ws_rtl.toml)
    parameter integer FORMAT = 1,
    // lanes per beat (rows per tile)
    parameter integer N      = 16,
    // weight bits
    parameter integer Q      = 8,
    // bus word bits
    parameter integer B      = 64,
    // CSC run bits (sizes the window of CSC only)
    parameter integer R      = 4,
    // CSC count bits (sizes the window of CSC only)
    parameter integer P      = 16,
    // largest supported number of rows O
    parameter integer MAX_O  = 1280,
    // input buffer: 0 the 128-word FIFO, 1 an M-word bank
    parameter integer BANK   = 0,
    // row tile index width (derived; not to be overridden)
    parameter integer TW     = (MAX_O + N - 1) / N > 1 ? $clog2((MAX_O + N - 1) / N) : 1
) (
    // clock
    input  wire             clk,
    // synchronous active-high reset
    input  wire             rst,

    // 1-cycle pulse: latch cfg, clear buffer, aligner and decoder, begin a layer
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

    // beats: N lanes of Q bits, lane l in bits [l*Q +: Q]
    output wire [N*Q-1:0]   m_beat_data_o,
    // beats: row tile index t
    output wire [TW-1:0]    m_beat_tile_o,
    // beats: first column (k == 0)
    output wire             m_beat_first_o,
    // beats: last tile of the column (nm: last beat of the group)
    output wire             m_beat_eoc_o,
    // beats: nm: column j within the group (0 for the other formats)
    output wire [3:0]       m_beat_col_o,
    // beats: last beat of the layer
    output wire             m_beat_last_o,
    // beats: valid
    output wire             m_beat_valid_o,
    // beats: ready
    input  wire             m_beat_ready_i,

    // status: decode phase
    output wire             busy_o,
    // status: all beats fired and the stream end checked (sticky until start)
    output wire             done_o,
    // status: error (sticky until start)
    output wire             error_o,
    // status: error code (`WS_ERR_*)
    output wire [3:0]       error_code_o,
    // status: the decoder waits for input bits
    output wire             starve_o,
    // status: the input buffer holds no word
    output wire             buf_empty_o
);

localparam integer FMT_DENSE        = `WS_FMT_DENSE;
localparam integer FMT_BITMAP       = `WS_FMT_BITMAP;
localparam integer FMT_DELTA_BITMAP = `WS_FMT_DELTA_BITMAP;
localparam integer FMT_CSC          = `WS_FMT_CSC;
localparam integer FMT_HUF          = `WS_FMT_BITMAP_HUFFMAN;
localparam integer FMT_DELTA_HUF    = `WS_FMT_DELTA_BITMAP_HUFFMAN;
localparam integer FMT_LHUF         = `WS_FMT_LANE_HUFFMAN;
localparam integer FMT_DELTA_LHUF   = `WS_FMT_DELTA_LANE_HUFFMAN;
localparam integer FMT_NM           = `WS_FMT_NM;
localparam integer IS_HUF           = FORMAT == FMT_HUF || FORMAT == FMT_DELTA_HUF ? 1 : 0;
localparam integer IS_LHUF          = FORMAT == FMT_LHUF || FORMAT == FMT_DELTA_LHUF ? 1 : 0;
// bitmap-huffman: the longest code (the golden model's MAX_CODE_LEN) and
// the codes decoded per cycle
localparam integer HUF_H  = `WS_HUF_H;
localparam integer HUF_S  = N < `WS_HUF_S ? N : `WS_HUF_S;
localparam integer HUF_WIN = N + `WS_HUF_W > Q ? N + `WS_HUF_W : Q;
// lane-huffman: chunk bits, chunks per cycle, header counts per cycle, and
// the window: the chunks and the next mask, or the counts
localparam integer LHUF_C   = `WS_LHUF_C;
localparam integer LHUF_R   = (N + `WS_LHUF_LPC - 1) / `WS_LHUF_LPC;
localparam integer LHUF_CPC = `WS_LHUF_CPC;
localparam integer LHUF_WIN = LHUF_C*LHUF_R + N > LHUF_CPC*Q ? LHUF_C*LHUF_R + N : LHUF_CPC*Q;
// nm: a beat of N entries with positions of up to 4 bits, at least the
// 8-bit header
localparam integer NM_LM    = `WS_NM_MAXLM;
localparam integer NM_WIN   = N*(NM_LM+Q) > 8 ? N*(NM_LM+Q) : 8;

// CSC: a group of N entries (a dense tile passes in a cycle on words banked
// in the FIFO), the bus words it spans, and the window: the look-ahead
// after a group only in the spare bits of those words (a word more per
// cycle costs the FIFO and the aligner a read port's width)
localparam integer CSC_GB = N*(R+Q);
localparam integer CSC_GW = (CSC_GB + B - 1) / B * B;
localparam integer CSC_PR = P > R ? P : R;
localparam integer CSC_WL = CSC_GB + CSC_PR < CSC_GW ? CSC_GB + CSC_PR : CSC_GW;
localparam integer CSC_WIN = CSC_WL > P ? CSC_WL : P;
// aligner window: the widest beat of the format
localparam integer WIN    = FORMAT == FMT_DENSE ? N*Q :
                            FORMAT == FMT_CSC   ? CSC_WIN :
                            IS_HUF != 0         ? HUF_WIN :
                            IS_LHUF != 0        ? LHUF_WIN :
                            FORMAT == FMT_NM    ? NM_WIN :
                            N*Q + N;
localparam integer CNT_W  = $clog2(2*WIN + 3*B + 1);
localparam integer CW     = $clog2(WIN + 1);
// candidate lengths the decoder offers the aligner per cycle
localparam integer K      = FORMAT == FMT_DENSE || IS_HUF != 0 || FORMAT == FMT_NM ? 1 :
                            FORMAT == FMT_CSC   ? 4 :
                            IS_LHUF != 0        ? 2*LHUF_R + 3 :
                            3;
// bitmap formats: the window shift by a one-hot copy of the low pointer
// bits (the next mask's popcount, beside the loop, starts at the window)
localparam integer SHIFT_OH = FORMAT == FMT_BITMAP || FORMAT == FMT_DELTA_BITMAP ? 1 : 0;
// dense: the end-of-stream check from a registered pointer thermometer (the
// check is the longest path of the dense front end otherwise)
localparam integer TAIL_TH  = FORMAT == FMT_DENSE || FORMAT == FMT_NM ? 1 : 0;
// words the aligner takes per cycle at most: enough for the widest beat
localparam integer M      = (WIN + B - 1) / B;
localparam integer PW     = $clog2(M + 1);
// the aligner's funnel bits and pointer width
localparam integer FB     = ((WIN + 2*B - 2)/B + M) * B;
localparam integer PTR_W  = $clog2(B);
// word FIFO depth: 128 words (a power of two >= M); 64 is not enough for
// MobileNetV2 features.14.conv.1 (CSC), 128 reaches the unbounded-FIFO cycle count
// (nm too: its group order leaves at most m - n beats without bits in a row)
localparam integer FIFO_D = M <= 128 ? 128 : (1 << $clog2(M));

// input buffer <-> aligner
wire [M*B-1:0]   buf_data;
wire [M-1:0]     buf_valid;
wire [M-1:0]     buf_last;
wire [PW-1:0]    buf_pop;

// aligner <-> decoder
wire [WIN-1:0]   win_data;
// the window split (funnel shifted by the pointer's low bits, the pointer):
// the bitmap decoders select the next mask from it
wire [FB-1:0]    win_lo;
wire [PTR_W-1:0] win_ptr;
wire [CNT_W-1:0] win_count;
wire             win_last;
wire             win_tail_ok;
wire [K*CW-1:0]  win_need;
wire [K-1:0]     win_pick;
wire             win_en;

generate
    if (BANK != 0) begin : g_bank
        ws_word_bank #(
            .B(B),
            .M(M)
        ) u_buf (
            .clk(clk),
            .rst(rst),
            .clear_i(start_i),
            .en_i(win_en),
            .s_data_i(s_w_data_i),
            .s_valid_i(s_w_valid_i),
            .s_last_i(s_w_last_i),
            .s_ready_o(s_w_ready_o),
            .m_data_o(buf_data),
            .m_valid_o(buf_valid),
            .m_last_o(buf_last),
            .m_pop_i(buf_pop),
            .empty_o(buf_empty_o)
        );
    end else begin : g_fifo
        ws_word_fifo #(
            .B(B),
            .DEPTH(FIFO_D),
            .M(M)
        ) u_fifo (
            .clk(clk),
            .rst(rst),
            .clear_i(start_i),
            .en_i(win_en),
            .s_data_i(s_w_data_i),
            .s_valid_i(s_w_valid_i),
            .s_last_i(s_w_last_i),
            .s_ready_o(s_w_ready_o),
            .m_data_o(buf_data),
            .m_valid_o(buf_valid),
            .m_last_o(buf_last),
            .m_pop_i(buf_pop),
            .empty_o(buf_empty_o)
        );
    end
endgenerate

ws_bit_aligner #(
    .B(B),
    .WIN(WIN),
    .M(M),
    .K(K),
    .SHIFT_OH(SHIFT_OH),
    .TAIL_TH(TAIL_TH)
) u_aligner (
    .clk(clk),
    .rst(rst),
    .clear_i(start_i),
    .en_i(win_en),
    .s_data_i(buf_data),
    .s_valid_i(buf_valid),
    .s_last_i(buf_last),
    .s_pop_o(buf_pop),
    .win_data_o(win_data),
    .win_lo_o(win_lo),
    .win_ptr_o(win_ptr),
    .win_count_o(win_count),
    .win_last_o(win_last),
    .win_tail_ok_o(win_tail_ok),
    .win_need_i(win_need),
    .win_pick_i(win_pick)
);

// the window split is used by the bitmap decoders only
generate
    if (FORMAT != FMT_BITMAP && FORMAT != FMT_DELTA_BITMAP) begin : g_split_unused
        wire unused_split = ^{win_lo, win_ptr};
    end
endgenerate

// the format's decoder
generate
    if (FORMAT == FMT_DENSE) begin : g_dense
        ws_dense_unpacker #(
            .N(N),
            .Q(Q),
            .B(B),
            .MAX_O(MAX_O)
        ) u_decoder (
            .clk(clk),
            .rst(rst),
            .start_i(start_i),
            .cfg_rows_i(cfg_rows_i),
            .cfg_cols_i(cfg_cols_i),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_need_o(win_need),
            .win_pick_o(win_pick),
            .win_en_o(win_en),
            .m_beat_data_o(m_beat_data_o),
            .m_beat_tile_o(m_beat_tile_o),
            .m_beat_first_o(m_beat_first_o),
            .m_beat_eoc_o(m_beat_eoc_o),
            .m_beat_last_o(m_beat_last_o),
            .m_beat_valid_o(m_beat_valid_o),
            .m_beat_ready_i(m_beat_ready_i),
            .busy_o(busy_o),
            .done_o(done_o),
            .error_o(error_o),
            .error_code_o(error_code_o),
            .starve_o(starve_o)
        );
    end else if (FORMAT == FMT_BITMAP) begin : g_bitmap
        ws_bitmap_decoder #(
            .N(N),
            .Q(Q),
            .B(B),
            .MAX_O(MAX_O)
        ) u_decoder (
            .clk(clk),
            .rst(rst),
            .start_i(start_i),
            .cfg_rows_i(cfg_rows_i),
            .cfg_cols_i(cfg_cols_i),
            .win_data_i(win_data),
            .win_lo_i(win_lo),
            .win_ptr_i(win_ptr),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_need_o(win_need),
            .win_pick_o(win_pick),
            .win_en_o(win_en),
            .m_beat_data_o(m_beat_data_o),
            .m_beat_tile_o(m_beat_tile_o),
            .m_beat_first_o(m_beat_first_o),
            .m_beat_eoc_o(m_beat_eoc_o),
            .m_beat_last_o(m_beat_last_o),
            .m_beat_valid_o(m_beat_valid_o),
            .m_beat_ready_i(m_beat_ready_i),
            .busy_o(busy_o),
            .done_o(done_o),
            .error_o(error_o),
            .error_code_o(error_code_o),
            .starve_o(starve_o)
        );
    end else if (FORMAT == FMT_DELTA_BITMAP) begin : g_delta_bitmap
        ws_delta_bitmap_decoder #(
            .N(N),
            .Q(Q),
            .B(B),
            .MAX_O(MAX_O)
        ) u_decoder (
            .clk(clk),
            .rst(rst),
            .start_i(start_i),
            .cfg_rows_i(cfg_rows_i),
            .cfg_cols_i(cfg_cols_i),
            .win_data_i(win_data),
            .win_lo_i(win_lo),
            .win_ptr_i(win_ptr),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_need_o(win_need),
            .win_pick_o(win_pick),
            .win_en_o(win_en),
            .m_beat_data_o(m_beat_data_o),
            .m_beat_tile_o(m_beat_tile_o),
            .m_beat_first_o(m_beat_first_o),
            .m_beat_eoc_o(m_beat_eoc_o),
            .m_beat_last_o(m_beat_last_o),
            .m_beat_valid_o(m_beat_valid_o),
            .m_beat_ready_i(m_beat_ready_i),
            .busy_o(busy_o),
            .done_o(done_o),
            .error_o(error_o),
            .error_code_o(error_code_o),
            .starve_o(starve_o)
        );
    end else if (FORMAT == FMT_CSC) begin : g_csc
        ws_csc_decoder #(
            .N(N),
            .Q(Q),
            .B(B),
            .WIN(CSC_WIN),
            .R(R),
            .P(P),
            .MAX_O(MAX_O)
        ) u_decoder (
            .clk(clk),
            .rst(rst),
            .start_i(start_i),
            .cfg_rows_i(cfg_rows_i),
            .cfg_cols_i(cfg_cols_i),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_need_o(win_need),
            .win_pick_o(win_pick),
            .win_en_o(win_en),
            .m_beat_data_o(m_beat_data_o),
            .m_beat_tile_o(m_beat_tile_o),
            .m_beat_first_o(m_beat_first_o),
            .m_beat_eoc_o(m_beat_eoc_o),
            .m_beat_last_o(m_beat_last_o),
            .m_beat_valid_o(m_beat_valid_o),
            .m_beat_ready_i(m_beat_ready_i),
            .busy_o(busy_o),
            .done_o(done_o),
            .error_o(error_o),
            .error_code_o(error_code_o),
            .starve_o(starve_o)
        );
    end else if (IS_LHUF != 0) begin : g_lane_huffman
        ws_lane_huffman_decoder #(
            .N(N),
            .Q(Q),
            .B(B),
            .H(HUF_H),
            .C(LHUF_C),
            .R(LHUF_R),
            .CPC(LHUF_CPC),
            .TWB(`WS_LHUF_TWB),
            .FFT(`WS_LHUF_FFT),
            .DELTA(FORMAT == FMT_DELTA_LHUF ? 1 : 0),
            .MAX_O(MAX_O),
            .WIN(LHUF_WIN)
        ) u_decoder (
            .clk(clk),
            .rst(rst),
            .start_i(start_i),
            .cfg_rows_i(cfg_rows_i),
            .cfg_cols_i(cfg_cols_i),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_need_o(win_need),
            .win_pick_o(win_pick),
            .win_en_o(win_en),
            .m_beat_data_o(m_beat_data_o),
            .m_beat_tile_o(m_beat_tile_o),
            .m_beat_first_o(m_beat_first_o),
            .m_beat_eoc_o(m_beat_eoc_o),
            .m_beat_last_o(m_beat_last_o),
            .m_beat_valid_o(m_beat_valid_o),
            .m_beat_ready_i(m_beat_ready_i),
            .busy_o(busy_o),
            .done_o(done_o),
            .error_o(error_o),
            .error_code_o(error_code_o),
            .starve_o(starve_o)
        );
    end else if (FORMAT == FMT_NM) begin : g_nm
        ws_nm_decoder #(
            .N(N),
            .Q(Q),
            .B(B),
            .MAX_O(MAX_O),
            .KEEP(`WS_NM_KEEP),
            .MAXLM(NM_LM),
            .WIN(NM_WIN)
        ) u_decoder (
            .clk(clk),
            .rst(rst),
            .start_i(start_i),
            .cfg_rows_i(cfg_rows_i),
            .cfg_cols_i(cfg_cols_i),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_need_o(win_need),
            .win_pick_o(win_pick),
            .win_en_o(win_en),
            .m_beat_data_o(m_beat_data_o),
            .m_beat_tile_o(m_beat_tile_o),
            .m_beat_first_o(m_beat_first_o),
            .m_beat_eoc_o(m_beat_eoc_o),
            .m_beat_col_o(m_beat_col_o),
            .m_beat_last_o(m_beat_last_o),
            .m_beat_valid_o(m_beat_valid_o),
            .m_beat_ready_i(m_beat_ready_i),
            .busy_o(busy_o),
            .done_o(done_o),
            .error_o(error_o),
            .error_code_o(error_code_o),
            .starve_o(starve_o)
        );
    end else if (IS_HUF != 0) begin : g_huffman
        ws_huffman_decoder #(
            .N(N),
            .Q(Q),
            .B(B),
            .H(HUF_H),
            .S(HUF_S),
            .DELTA(FORMAT == FMT_DELTA_HUF ? 1 : 0),
            .MAX_O(MAX_O),
            .WIN(HUF_WIN)
        ) u_decoder (
            .clk(clk),
            .rst(rst),
            .start_i(start_i),
            .cfg_rows_i(cfg_rows_i),
            .cfg_cols_i(cfg_cols_i),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_need_o(win_need),
            .win_pick_o(win_pick),
            .win_en_o(win_en),
            .m_beat_data_o(m_beat_data_o),
            .m_beat_tile_o(m_beat_tile_o),
            .m_beat_first_o(m_beat_first_o),
            .m_beat_eoc_o(m_beat_eoc_o),
            .m_beat_last_o(m_beat_last_o),
            .m_beat_valid_o(m_beat_valid_o),
            .m_beat_ready_i(m_beat_ready_i),
            .busy_o(busy_o),
            .done_o(done_o),
            .error_o(error_o),
            .error_code_o(error_code_o),
            .starve_o(starve_o)
        );
    end
endgenerate

// beats in column order: every beat is column 0 of its (one-column) group
generate
    if (FORMAT != FMT_NM) begin : g_col0
        assign m_beat_col_o = 4'd0;
    end
endgenerate

endmodule

`resetall
`default_nettype wire
