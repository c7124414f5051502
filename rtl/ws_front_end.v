// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream front end, for synthesis cost (`weightstream cost`)
 *
 * The part of ws_top_core that depends on the stream format, alone:
 *
 *   input regs -> M-word bank -> ws_bit_aligner -> decoder -> output regs
 *
 * i.e. the aligner and the format's decoder (with its ws_beat_sequencer),
 * WITHOUT the 128-word FIFO and the PE array, registered at every input
 * and output so that every timing path measured is register to register
 * and the front end's own.  The decoder is chosen by FORMAT (labelled
 * generate block g_<fmt>), with the same window WIN and take width M as
 * in ws_top_core:
 *   0 ws_dense_unpacker        WIN = N*Q
 *   1 ws_bitmap_decoder        WIN = N*Q + N
 *   2 ws_delta_bitmap_decoder  WIN = N*Q + N
 *   3 ws_csc_decoder           WIN = P + N*(R+Q) + R
 *
 * In place of ws_word_fifo an M-word bank (a shift register holding up to
 * M words with their last flags) presents the aligner its head words.  The
 * bus writes one word per cycle into it (s_w_ready_o from registered state
 * only, as ws_word_fifo's); the aligner takes 0..M of the held words per
 * cycle, and the bank shifts the rest down.  So the consume -> take ->
 * bank path stands for ws_top_core's consume -> take -> FIFO pointer path.
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

localparam integer FMT_DENSE        = 0;
localparam integer FMT_BITMAP       = 1;
localparam integer FMT_DELTA_BITMAP = 2;
localparam integer FMT_CSC          = 3;

// aligner window: the widest beat of the format (as in ws_top_core)
localparam integer WIN   = FORMAT == FMT_DENSE ? N*Q :
                           FORMAT == FMT_CSC   ? P + N*(R+Q) + R :
                           N*Q + N;
localparam integer CNT_W = $clog2(WIN + 3*B + 1);
localparam integer CW    = $clog2(WIN + 1);
localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;
// words the aligner takes per cycle at most (as in ws_top_core)
localparam integer M     = (WIN + B - 1) / B;
localparam integer PW    = $clog2(M + 1);
// bank count width: 0..M words held
localparam integer BW    = $clog2(M + 1);

localparam [BW-1:0] M_C = M[BW-1:0];

// parameter checks (those of ws_top_core)
generate
    if (FORMAT < FMT_DENSE || FORMAT > FMT_CSC ||
        N < 1 || Q < 1 || B < 1 || R < 1 || P < 1 || QA < 1 || ACC < Q + QA ||
        MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
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
// M-word bank in place of the word FIFO
// ---------------------------------------------------------------------------
// bank <-> aligner
wire [M*B-1:0]   bank_data;
wire [M-1:0]     bank_valid;
wire [M-1:0]     bank_last;
wire [PW-1:0]    bank_pop;

// aligner <-> decoder
wire [WIN-1:0]   win_data;
wire [CNT_W-1:0] win_count;
wire             win_last;
wire             win_tail_ok;
wire [CW-1:0]    win_consume;
wire             win_en;

reg [B-1:0]  word_q [0:M-1];
reg [M-1:0]  wlast_q;
reg [BW-1:0] cnt_q, cnt_d;
reg          seen_q, seen_d;    // the last-flagged word has been written

// the bus writes into slot cnt_q - pop; the pop is at most cnt_q
wire          push     = s_w_valid_i && s_w_ready_o;
wire [BW-1:0] pop_c    = {{(BW-PW){1'b0}}, bank_pop};
wire [BW-1:0] keep_cnt = cnt_q - pop_c;

assign s_w_ready_o = win_en && !seen_q && (cnt_q != M_C);

genvar j;
generate
    for (j = 0; j < M; j = j + 1) begin : g_slot
        localparam [BW-1:0] J_C = j;
        assign bank_data[j*B +: B] = word_q[j];
        assign bank_last[j]        = wlast_q[j];
        assign bank_valid[j]       = cnt_q > J_C;

        // slot j after the pop: the word pop slots above, or the bus word
        reg [B-1:0] word_d;
        reg         wlast_d;
        integer     k;
        always @* begin
            word_d  = word_q[j];
            wlast_d = wlast_q[j];
            for (k = 0; k < M - j; k = k + 1) begin
                if (pop_c == k[BW-1:0]) begin
                    word_d  = word_q[j + k];
                    wlast_d = wlast_q[j + k];
                end
            end
            if (push && keep_cnt == J_C) begin
                word_d  = s_w_data_i;
                wlast_d = s_w_last_i;
            end
        end

        // word storage, no reset (a slot is only presented below cnt_q)
        always @(posedge clk) begin
            word_q[j]  <= word_d;
            wlast_q[j] <= wlast_d;
        end
    end
endgenerate

always @* begin
    cnt_d  = keep_cnt + {{(BW-1){1'b0}}, push};
    seen_d = seen_q || (push && s_w_last_i);
    if (start_q) begin
        cnt_d  = {BW{1'b0}};
        seen_d = 1'b0;
    end
end

always @(posedge clk) begin
    if (rst) begin
        cnt_q  <= {BW{1'b0}};
        seen_q <= 1'b0;
    end else begin
        cnt_q  <= cnt_d;
        seen_q <= seen_d;
    end
end

// ---------------------------------------------------------------------------
// aligner and decoder
// ---------------------------------------------------------------------------
// decoder -> output registers
wire [N*Q-1:0]   beat_data;
wire [TW-1:0]    beat_tile;
wire             beat_first;
wire             beat_eoc;
wire             beat_last;
wire             beat_valid;

// decoder status
wire             dec_busy;
wire             dec_done;
wire             dec_error;
wire [3:0]       dec_code;
wire             dec_starve;

ws_bit_aligner #(
    .B(B),
    .WIN(WIN),
    .M(M)
) u_aligner (
    .clk(clk),
    .rst(rst),
    .clear_i(start_q),
    .en_i(win_en),
    .s_data_i(bank_data),
    .s_valid_i(bank_valid),
    .s_last_i(bank_last),
    .s_pop_o(bank_pop),
    .win_data_o(win_data),
    .win_count_o(win_count),
    .win_last_o(win_last),
    .win_tail_ok_o(win_tail_ok),
    .win_consume_i(win_consume)
);

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
            .start_i(start_q),
            .cfg_rows_i(rows_q),
            .cfg_cols_i(cols_q),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_consume_o(win_consume),
            .win_en_o(win_en),
            .m_beat_data_o(beat_data),
            .m_beat_tile_o(beat_tile),
            .m_beat_first_o(beat_first),
            .m_beat_eoc_o(beat_eoc),
            .m_beat_last_o(beat_last),
            .m_beat_valid_o(beat_valid),
            .m_beat_ready_i(ready_q),
            .busy_o(dec_busy),
            .done_o(dec_done),
            .error_o(dec_error),
            .error_code_o(dec_code),
            .starve_o(dec_starve)
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
            .start_i(start_q),
            .cfg_rows_i(rows_q),
            .cfg_cols_i(cols_q),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_consume_o(win_consume),
            .win_en_o(win_en),
            .m_beat_data_o(beat_data),
            .m_beat_tile_o(beat_tile),
            .m_beat_first_o(beat_first),
            .m_beat_eoc_o(beat_eoc),
            .m_beat_last_o(beat_last),
            .m_beat_valid_o(beat_valid),
            .m_beat_ready_i(ready_q),
            .busy_o(dec_busy),
            .done_o(dec_done),
            .error_o(dec_error),
            .error_code_o(dec_code),
            .starve_o(dec_starve)
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
            .start_i(start_q),
            .cfg_rows_i(rows_q),
            .cfg_cols_i(cols_q),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_consume_o(win_consume),
            .win_en_o(win_en),
            .m_beat_data_o(beat_data),
            .m_beat_tile_o(beat_tile),
            .m_beat_first_o(beat_first),
            .m_beat_eoc_o(beat_eoc),
            .m_beat_last_o(beat_last),
            .m_beat_valid_o(beat_valid),
            .m_beat_ready_i(ready_q),
            .busy_o(dec_busy),
            .done_o(dec_done),
            .error_o(dec_error),
            .error_code_o(dec_code),
            .starve_o(dec_starve)
        );
    end else if (FORMAT == FMT_CSC) begin : g_csc
        ws_csc_decoder #(
            .N(N),
            .Q(Q),
            .B(B),
            .R(R),
            .P(P),
            .MAX_O(MAX_O)
        ) u_decoder (
            .clk(clk),
            .rst(rst),
            .start_i(start_q),
            .cfg_rows_i(rows_q),
            .cfg_cols_i(cols_q),
            .win_data_i(win_data),
            .win_count_i(win_count),
            .win_last_i(win_last),
            .win_tail_ok_i(win_tail_ok),
            .win_consume_o(win_consume),
            .win_en_o(win_en),
            .m_beat_data_o(beat_data),
            .m_beat_tile_o(beat_tile),
            .m_beat_first_o(beat_first),
            .m_beat_eoc_o(beat_eoc),
            .m_beat_last_o(beat_last),
            .m_beat_valid_o(beat_valid),
            .m_beat_ready_i(ready_q),
            .busy_o(dec_busy),
            .done_o(dec_done),
            .error_o(dec_error),
            .error_code_o(dec_code),
            .starve_o(dec_starve)
        );
    end
endgenerate

// ---------------------------------------------------------------------------
// output registers
// ---------------------------------------------------------------------------
wire beat_fire = beat_valid && ready_q;

reg [N*Q-1:0] out_data_q;
reg [TW-1:0]  out_tile_q;
reg           out_first_q;
reg           out_eoc_q;
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
