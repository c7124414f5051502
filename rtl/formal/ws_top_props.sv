// Language: SystemVerilog (yosys read_verilog -formal: immediate assume/assert, $past)

`resetall
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream formal properties of ws_top_core (scripts/formal)
 *
 * Instantiates the top (u_top) and constrains its inputs; every other input
 * of this module is free, so the solver drives the stream words, their
 * valid/last, the activations, the y sink's ready and start_i/cfg as it
 * likes within the assumptions:
 *   - reset in the first cycle only;
 *   - O <= MAX_O + 1 and K <= MAX_K (O = 0, O > MAX_O and K = 0 stay
 *     reachable: bad configuration);
 *   - the word and activation sources obey valid/ready: once valid, valid
 *     and data (and last) are held until the handshake or a start_i;
 *   - live mode (the free constant live_i): one start_i, in cycle 1; the
 *     word source always offers a word until the word flagged last has been
 *     taken and flags the MAX_W-th word last at the latest; activations are
 *     always offered and y is always taken.  The liveness bound is the
 *     hostile sweep's (src/hostile.rs) with no gaps:
 *     16 + W + T*PB + HDR + O + K cycles from start_i, W the words taken,
 *     T = K*ceil(O/N) beats; PB (cycles a beat) and HDR (header cycles) are
 *     1 and 0 but for the Huffman formats, as there.
 *
 * Assertions by group (scripts/formal checks a group, or one assertion,
 * alone by deleting the others by their labels):
 *   y_hold     p_y_hold: y valid held until ready, data and last stable
 *   beat_hold  p_beat_hold: beats into the PE array (decoder -> u_pe):
 *              valid held until ready, data/tile/first/eoc/last stable,
 *              while no error is flagged (an error flushes the beat pipe);
 *              p_beat_drop_err, weaker: a beat withdrawn while no error is
 *              flagged is followed by error_o in the next cycle (or start_i)
 *   silent     p_silent: while error_o, no word or activation ready, no
 *              beat fires, no y valid
 *   status     p_status: done and error never both, error_o iff code != 0;
 *              p_done_sticky, p_error_sticky (code too): until start_i;
 *              p_start_clears: start_i clears both (but the bad-configuration
 *              error it raises itself)
 *   fifo       word FIFO: p_fifo_over held <= depth, p_fifo_under the
 *              aligner pops at most the head words present, p_fifo_parts
 *              held = banked + in flight + head queue, p_fifo_words words
 *              accepted at the port (cnt_words_o) - words popped = held
 *   count      p_cnt_words, p_cnt_beats: cnt_words_o / cnt_beats_o = word
 *              handshakes / mon_beat_fire_o since start_i; p_cnt_cycles:
 *              stalled, starved <= cycles; p_count_frozen, p_cycles_frozen:
 *              no counting after an error (cycles: after the cycle it
 *              rises in); p_acts, p_ys: at most K activations and O y;
 *              p_y_last: m_y_last_o exactly on y[O-1]; p_w_after_last: no
 *              word after the one flagged last; p_done_counts: done =>
 *              K*ceil(O/N) beats fired, K activations and O y
 *   live       p_live: live mode, done or error within the bound
 *
 * FIFO and beat-stream signals are internal: the probe_* wires are left
 * undriven here and connected by scripts/formal after flattening to
 * u_top.u_decode.g_fifo.u_fifo.* and u_top.beat_* (yosys 0.23 has no
 * hierarchical references), zero-extended to the probe widths.
 */
module ws_top_props #(
    parameter integer FORMAT = 1,
    parameter integer N      = 2,
    parameter integer Q      = 4,
    parameter integer B      = 8,
    parameter integer R      = 2,
    parameter integer P      = 4,
    parameter integer QA     = 4,
    parameter integer ACC    = 8,
    parameter integer MAX_O  = 4,
    // largest K the solver may configure
    parameter integer MAX_K  = 2,
    // live mode: the stream's words at most
    parameter integer MAX_W  = 6,
    // the word FIFO's depth (ws_decode_path: 256 for nm, else 128)
    parameter integer FIFO_D = 128
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             live_i,
    input  wire             start_i,
    input  wire [15:0]      cfg_rows_i,
    input  wire [31:0]      cfg_cols_i,
    input  wire [B-1:0]     s_w_data_i,
    input  wire             s_w_valid_i,
    input  wire             s_w_last_i,
    input  wire [QA-1:0]    s_act_data_i,
    input  wire             s_act_valid_i,
    input  wire             m_y_ready_i
);

localparam integer T  = (MAX_O + N - 1) / N;
localparam integer TW = T > 1 ? $clog2(T) : 1;

wire             s_w_ready_o;
wire             s_act_ready_o;
wire [ACC-1:0]   m_y_data_o;
wire             m_y_valid_o;
wire             m_y_last_o;
wire [N*Q-1:0]   mon_beat_data_o;
wire             mon_beat_fire_o;
wire             busy_o;
wire             done_o;
wire             error_o;
wire [3:0]       error_code_o;
wire [31:0]      cnt_cycles_o;
wire [31:0]      cnt_words_o;
wire [31:0]      cnt_beats_o;
wire [31:0]      cnt_starved_o;
wire [31:0]      cnt_stalled_o;

ws_top_core #(
    .FORMAT(FORMAT),
    .N(N),
    .Q(Q),
    .B(B),
    .R(R),
    .P(P),
    .QA(QA),
    .ACC(ACC),
    .MAX_O(MAX_O)
) u_top (
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

// internal signals, connected by scripts/formal (see above)
wire [N*Q-1:0]   probe_beat_data;
wire [TW-1:0]    probe_beat_tile;
wire             probe_beat_first;
wire             probe_beat_eoc;
wire             probe_beat_last;
wire             probe_beat_valid;
wire             probe_beat_ready;
wire [15:0]      probe_fifo_held;
wire [15:0]      probe_fifo_bcnt;
wire [15:0]      probe_fifo_infl;
wire [15:0]      probe_fifo_hcnt;
wire [15:0]      probe_fifo_pop;
wire [15:0]      probe_fifo_valid;

// ---------------------------------------------------------------- environment

reg init = 1'b1;
reg was_rst = 1'b1;
reg was_start = 1'b0;
reg was_error = 1'b0;    // error_o two cycles ago (with $past: the last two cycles)
always @(posedge clk) begin
    init      <= 1'b0;
    was_error <= $past(error_o) && !was_start;
    was_rst   <= rst;
    was_start <= start_i;
end

// the cycles the formal past is meaningful and not a reset or start
wire past_ok = !init && !was_rst && !was_start;

reg        started = 1'b0;    // start_i seen
reg        w_done  = 1'b0;    // live source: the word flagged last was taken
reg [31:0] since   = 32'd0;   // cycles since start_i

always @(posedge clk) begin
    if (start_i && !rst) begin
        started <= 1'b1;
        w_done  <= 1'b0;
        since   <= 32'd1;
    end else begin
        if (s_w_valid_i && s_w_ready_o && s_w_last_i) begin
            w_done <= 1'b1;
        end
        if (since != 32'hffffffff) begin
            since <= since + 32'd1;
        end
    end
end

// what the harness sees, since the last start_i (a handshake in the start
// cycle belonged to the dropped layer, as the top's own counters count)
reg [31:0] n_words = 32'd0;
reg [31:0] n_beats = 32'd0;
reg [31:0] n_acts  = 32'd0;
reg [31:0] n_ys    = 32'd0;
reg [31:0] n_pop   = 32'd0;
reg [31:0] cfg_o   = 32'd0;
reg [31:0] cfg_k   = 32'd0;
reg        last_in = 1'b0;    // the word flagged last was accepted

always @(posedge clk) begin
    if (rst || start_i) begin
        n_words <= 32'd0;
        n_beats <= 32'd0;
        n_acts  <= 32'd0;
        n_ys    <= 32'd0;
        n_pop   <= 32'd0;
        last_in <= 1'b0;
        cfg_o   <= rst ? 32'd0 : {16'd0, cfg_rows_i};
        cfg_k   <= rst ? 32'd0 : cfg_cols_i;
    end else begin
        n_words <= n_words + (s_w_valid_i && s_w_ready_o);
        n_beats <= n_beats + mon_beat_fire_o;
        n_acts  <= n_acts + (s_act_valid_i && s_act_ready_o);
        n_ys    <= n_ys + (m_y_valid_o && m_y_ready_i);
        n_pop   <= n_pop + {16'd0, probe_fifo_pop};
        if (s_w_valid_i && s_w_ready_o && s_w_last_i) begin
            last_in <= 1'b1;
        end
    end
end

// beats of the configured layer: K * ceil(O / N)
// (a shift for N a power of two: a divider costs the solver)
wire [31:0] tiles    = (N & (N - 1)) == 0 ? (cfg_o + N - 1) >> $clog2(N) : (cfg_o + N - 1) / N;
// (narrow: K <= MAX_K and O <= MAX_O + 1 are small; a 32-bit product costs the solver)
wire [31:0] n_layer  = {16'd0, cfg_k[7:0] * tiles[7:0]};

// the Huffman decoders' cycles per beat and header cycles (src/hostile.rs):
// bitmap-huffman: ceil(N / c), c = min(N, S, max(W / H, 1)) the fewest codes
// a cycle takes, and 1 + H + symbols; lane-huffman: ceil(N / RC) + 2 and
// 2 + ceil(H / CPC) + ceil(symbols / SPC) + N; symbols = min(W*B/Q, 2^Q)
localparam integer IS_HUF  = FORMAT == `WS_FMT_BITMAP_HUFFMAN || FORMAT == `WS_FMT_DELTA_BITMAP_HUFFMAN;
localparam integer IS_LHUF = FORMAT == `WS_FMT_LANE_HUFFMAN || FORMAT == `WS_FMT_DELTA_LANE_HUFFMAN;
localparam integer HUF_U   = N < `WS_HUF_S ? N : `WS_HUF_S;
localparam integer HUF_WH  = `WS_HUF_W / `WS_HUF_H > 1 ? `WS_HUF_W / `WS_HUF_H : 1;
localparam integer HUF_C   = HUF_U < HUF_WH ? HUF_U : HUF_WH;
localparam integer LH_RC   = (N + `WS_LHUF_LPC - 1) / `WS_LHUF_LPC;
localparam integer LH_WIN  = `WS_LHUF_C * LH_RC + N > `WS_LHUF_CPC * Q ? `WS_LHUF_C * LH_RC + N
                                                                       : `WS_LHUF_CPC * Q;
localparam integer LH_SPCF = LH_WIN / Q < (1 << Q) ? LH_WIN / Q : (1 << Q);
localparam integer LH_PW   = (`WS_LHUF_TWB / Q) < 1 ? 1 : (`WS_LHUF_TWB / Q) > 8 ? 8 : `WS_LHUF_TWB / Q;
localparam integer LH_PW2  = LH_PW >= 8 ? 8 : LH_PW >= 4 ? 4 : LH_PW >= 2 ? 2 : 1;
localparam integer LH_SPC  = (1 << Q) * Q <= `WS_LHUF_FFT ? LH_SPCF
                           : (LH_PW2 < (1 << (Q - 1)) ? LH_PW2 : (1 << (Q - 1)));
localparam integer PB      = IS_HUF ? (N + HUF_C - 1) / HUF_C : IS_LHUF ? (N + LH_RC - 1) / LH_RC + 2 : 1;
wire [15:0] w_syms  = n_words[7:0] * B / Q;
wire [15:0] syms    = w_syms < (1 << Q) ? w_syms : (1 << Q);
wire [15:0] hdr     = IS_HUF ? 16'd1 + `WS_HUF_H + syms :
                      IS_LHUF ? 16'd2 + (`WS_HUF_H + `WS_LHUF_CPC - 1) / `WS_LHUF_CPC
                                + (syms + LH_SPC - 1) / LH_SPC + N : 16'd0;
wire [31:0] bound    = 32'd16 + n_words + n_layer * PB + {16'd0, hdr} + cfg_o + cfg_k;

// live mode is chosen in the first cycle and kept (a register, not a
// clocked assumption: those do not constrain the last step of a trace)
reg  live_q = 1'b0;
wire live = init ? live_i : live_q;
// what the sources offered and was not taken in the previous cycle
reg          w_hold = 1'b0;
reg [B-1:0]  w_data = {B{1'b0}};
reg          w_last = 1'b0;
reg          a_hold = 1'b0;
reg [QA-1:0] a_data = {QA{1'b0}};

always @(posedge clk) begin
    live_q <= live;
    w_hold <= s_w_valid_i && !s_w_ready_o && !rst && !start_i;
    w_data <= s_w_data_i;
    w_last <= s_w_last_i;
    a_hold <= s_act_valid_i && !s_act_ready_o && !rst && !start_i;
    a_data <= s_act_data_i;
end

always @* begin
    assume(rst == init);
    assume(cfg_rows_i <= MAX_O + 1);
    assume(cfg_cols_i <= MAX_K);
    // the sources hold what they offer until it is taken
    if (w_hold) begin
        assume(s_w_valid_i && s_w_data_i == w_data && s_w_last_i == w_last);
    end
    if (a_hold) begin
        assume(s_act_valid_i && s_act_data_i == a_data);
    end
    if (live) begin
        assume(start_i == (!init && !started));
        assume(s_act_valid_i);
        assume(m_y_ready_i);
        assume(s_w_valid_i == (started && !w_done));
        if (n_words == MAX_W - 1) begin
            assume(s_w_last_i);
        end
    end
end

// ---------------------------------------------------------------- properties

function integer ones(input [15:0] v);
    integer i;
    begin
        ones = 0;
        for (i = 0; i < 16; i = i + 1) begin
            ones = ones + v[i];
        end
    end
endfunction

// the beat offered and not taken in the previous cycle, and whether it is
// still offered as it was
reg          b_hold = 1'b0;
reg [N*Q-1:0] b_data = {N*Q{1'b0}};
reg [TW+2:0] b_side = {TW+3{1'b0}};
reg          b_drop_q = 1'b0;
wire [TW+2:0] b_side_now = {probe_beat_tile, probe_beat_first, probe_beat_eoc, probe_beat_last};
wire b_kept = probe_beat_valid && probe_beat_data == b_data && b_side_now == b_side;
// withdrawn or changed without a handshake while no error is flagged
wire b_drop = past_ok && b_hold && !b_kept && !error_o;

always @(posedge clk) begin
    b_hold   <= probe_beat_valid && !probe_beat_ready;
    b_data   <= probe_beat_data;
    b_side   <= b_side_now;
    b_drop_q <= b_drop && !start_i;   // a start_i drops the layer: no error to come
end

always @(posedge clk) begin
    if (past_ok && $past(m_y_valid_o && !m_y_ready_i)) begin
        p_y_hold: assert(m_y_valid_o && m_y_data_o == $past(m_y_data_o)
                         && m_y_last_o == $past(m_y_last_o));
    end
    // status
    if (past_ok) begin
        if ($past(done_o)) begin
            p_done_sticky: assert(done_o);
        end
        if ($past(error_o)) begin
            p_error_sticky: assert(error_o && error_code_o == $past(error_code_o));
        end
    end
    if (!init && !was_rst && was_start) begin
        p_start_clears: assert(!done_o && (!error_o || error_code_o == 4'd5));
    end
    // count
    if (past_ok && $past(error_o)) begin
        p_count_frozen: assert(cnt_words_o == $past(cnt_words_o)
                               && cnt_beats_o == $past(cnt_beats_o));
        // the cycle counter also counts the cycle error_o rises in
        if (was_error) begin
            p_cycles_frozen: assert(cnt_cycles_o == $past(cnt_cycles_o));
        end
    end
end

always @* begin
    if (!init) begin
        // beat_hold
        p_beat_hold: assert(!b_drop);
        p_beat_drop_err: assert(!b_drop_q || error_o);
        if (error_o) begin
            p_silent: assert(!s_w_ready_o && !s_act_ready_o && !mon_beat_fire_o && !m_y_valid_o);
        end
        // status
        p_status: assert(!(done_o && error_o) && error_o == (error_code_o != 4'd0));
        // fifo
        begin
            p_fifo_over: assert(probe_fifo_held <= FIFO_D);
            p_fifo_under: assert(probe_fifo_pop <= ones(probe_fifo_valid));
            p_fifo_parts: assert(probe_fifo_held == probe_fifo_bcnt + probe_fifo_infl
                                                    + probe_fifo_hcnt);
            p_fifo_words: assert(cnt_words_o - n_pop == {16'd0, probe_fifo_held});
        end
        // count
        begin
            p_cnt_words: assert(cnt_words_o == n_words);
            p_cnt_beats: assert(cnt_beats_o == n_beats);
            p_cnt_cycles: assert(cnt_stalled_o <= cnt_cycles_o && cnt_starved_o <= cnt_cycles_o);
            p_acts: assert(n_acts <= cfg_k && (!s_act_ready_o || n_acts < cfg_k));
            p_ys: assert(n_ys <= cfg_o && (!m_y_valid_o || n_ys < cfg_o));
            p_y_last: assert(!m_y_valid_o || m_y_last_o == (n_ys == cfg_o - 1));
            p_w_after_last: assert(!last_in || !s_w_ready_o);
            if (done_o) begin
                p_done_counts: assert(n_beats == n_layer && n_acts == cfg_k && n_ys == cfg_o);
            end
        end
        if (live && started && since > bound) begin
            p_live: assert(done_o || error_o);
        end
        // reachability (scripts/formal --cover): a layer done, y held back,
        // a beat held back, an error
        c_done: cover(done_o);
        c_y_stall: cover(m_y_valid_o && !m_y_ready_i);
        c_beat_stall: cover(probe_beat_valid && !probe_beat_ready && !error_o);
        c_error: cover(error_o);
    end
end

endmodule

`resetall
`default_nettype wire
