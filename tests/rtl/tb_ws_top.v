// Language: Verilog 2005 (testbench; compiled with iverilog -g2012)

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * Self-checking testbench for the weightstream tops under Icarus Verilog.
 *
 * One layer through one top: reset, a start_i pulse with cfg_rows_i = O and
 * cfg_cols_i = K, the bus words on s_w_* (s_w_last_i on the final word), the
 * activations a[0..K) on s_act_*, y[0..O) taken from m_y_*.  Every beat is
 * checked lane by lane at mon_beat_fire_o against the golden beats, every y
 * against the golden y = W a.
 *
 * Compile (parameters with -P, e.g. -Ptb_ws_top.FMT=3 -Ptb_ws_top.N=8):
 *   iverilog -g2012 -y rtl -o sim tests/rtl/tb_ws_top.v
 * Run:
 *   vvp sim +words_hex=W.hex +beats_hex=E.hex +acts_hex=A.hex +y_hex=Y.hex \
 *           +n_words=<words> +n_beats=<beats> +O=<rows> +K=<cols> [+seed=<s>] [+timeout=<c>]
 *
 * Files ($readmemh, one value per line, hex, most significant digit first):
 *   words_hex  one B-bit bus word per line (stream bit j*B + i in bit i of word j)
 *   beats_hex  one N*Q-bit beat per line, lane l in bits [l*Q +: Q], two's complement,
 *              zeros on lanes >= L (the golden beats in stream order)
 *   acts_hex   one QA-bit two's complement activation per line, a[0..K)
 *   y_hex      one ACC-bit (32) two's complement y per line, y[0..O)
 *
 * Traffic: a xorshift32 generator seeded with +seed gives input gaps (about
 * 31 % of the cycles in which a source could present a new item) on the words
 * and activations, and backpressure (m_y_ready_i low about 31 % of the cycles)
 * on y.  A source holds valid and data until the item is taken; while valid is
 * low its data carries junk (must be ignored).  +seed=0 (the default): no
 * gaps, no backpressure.
 *
 * Cycle numbering: start_i is high in cycle 0; an event reported in cycle c
 * was sampled at the end of cycle c (the c-th rising edge after the one that
 * sampled start_i).
 *
 * Output: on success exactly one line
 *   PASS beats=<beats fired> y=<y taken> cycles=<cycle in which done_o was first seen>
 * on the first failure exactly one line, then $finish:
 *   FAIL <what> cycle=<c> beat=<b> lane=<l>
 * <what> has no spaces; beat is the beat concerned (for a beat mismatch) or
 * else the number of beats fired so far; lane is the first mismatching lane,
 * or -1 when no lane is concerned.
 *
 * Checks: every beat (data of each lane, no beat beyond the expected count),
 * every y (value, m_y_last_o exactly on y[O-1], no y beyond O), error_o never
 * set, no X on the handshake/status outputs, done_o within the timeout; at
 * done_o: beats fired = n_beats, y taken = O, all words and activations taken
 * and cnt_words_o / cnt_beats_o agree; then for TAIL cycles: done_o stays set,
 * busy_o low, both input readies low, no beat fires and no y is offered.
 */
module tb_ws_top;

// FORMAT of ws_top_core under test (codes: rtl/ws_rtl.toml)
parameter integer FMT       = 0;
// lanes per beat
parameter integer N         = 16;
// weight bits
parameter integer Q         = 8;
// bus word bits
parameter integer B         = 64;
// CSC run bits
parameter integer R         = 4;
// CSC count bits
parameter integer P         = 16;
// activation bits
parameter integer QA        = 8;
// accumulator / y bits (the y file holds ACC-bit values)
parameter integer ACC       = 32;
// largest O the top supports (also the size of the expected-y memory)
parameter integer MAX_O     = 1280;
// size of the stream word memory (largest +n_words)
parameter integer MAX_WORDS = 8192;
// size of the expected beat memory (largest +n_beats)
parameter integer MAX_BEATS = 8192;
// size of the activation memory (largest +K)
parameter integer MAX_K     = 8192;
// cycles after done_o in which nothing more may happen
parameter integer TAIL      = 8;

// ---------------------------------------------------------------- plusargs
// +words_hex=<path>: the stream's bus words (B bits per line)
reg [8*1024-1:0] words_hex;
// +beats_hex=<path>: the expected beats (N*Q bits per line)
reg [8*1024-1:0] beats_hex;
// +acts_hex=<path>: the activations a[0..K) (QA bits per line)
reg [8*1024-1:0] acts_hex;
// +y_hex=<path>: the expected y[0..O) (ACC bits per line)
reg [8*1024-1:0] y_hex;
// +n_words=<n>: bus words in words_hex, all sent (the last with s_w_last_i)
integer n_words;
// +n_beats=<n>: expected beats in beats_hex, K * ceil(O/N)
integer n_beats;
// +O=<n>: rows O, driven on cfg_rows_i; also the number of y in y_hex
integer n_rows;
// +K=<n>: columns K, driven on cfg_cols_i; also the number of activations
integer n_cols;
// +seed=<n>: traffic seed, 0 = no gaps and no backpressure (default 0)
integer seed;
// +timeout=<c>: cycles after start before a missing done_o is a failure
// (default 1000 + 16 * (n_words + n_beats + O + K))
integer timeout;

// ---------------------------------------------------------------- memories
reg [B-1:0]   words_mem [0:MAX_WORDS-1];
reg [N*Q-1:0] beats_mem [0:MAX_BEATS-1];
reg [QA-1:0]  acts_mem  [0:MAX_K-1];
reg [ACC-1:0] y_mem     [0:MAX_O-1];

// ---------------------------------------------------------------- the top
reg              clk = 1'b0;
reg              rst = 1'b1;
reg              start_i = 1'b0;
reg  [15:0]      cfg_rows_i = 16'd0;
reg  [31:0]      cfg_cols_i = 32'd0;
reg  [B-1:0]     s_w_data_i = {B{1'b0}};
reg              s_w_valid_i = 1'b0;
reg              s_w_last_i = 1'b0;
wire             s_w_ready_o;
reg  [QA-1:0]    s_act_data_i = {QA{1'b0}};
reg              s_act_valid_i = 1'b0;
wire             s_act_ready_o;
wire [ACC-1:0]   m_y_data_o;
wire             m_y_valid_o;
wire             m_y_last_o;
reg              m_y_ready_i = 1'b1;
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

always #5 clk = ~clk;

ws_top_core #(
    .FORMAT(FMT), .N(N), .Q(Q), .B(B), .R(R), .P(P), .QA(QA), .ACC(ACC), .MAX_O(MAX_O)
) u_top (
    .clk(clk), .rst(rst),
    .start_i(start_i), .cfg_rows_i(cfg_rows_i), .cfg_cols_i(cfg_cols_i),
    .s_w_data_i(s_w_data_i), .s_w_valid_i(s_w_valid_i), .s_w_last_i(s_w_last_i),
    .s_w_ready_o(s_w_ready_o),
    .s_act_data_i(s_act_data_i), .s_act_valid_i(s_act_valid_i), .s_act_ready_o(s_act_ready_o),
    .m_y_data_o(m_y_data_o), .m_y_valid_o(m_y_valid_o), .m_y_last_o(m_y_last_o),
    .m_y_ready_i(m_y_ready_i),
    .mon_beat_data_o(mon_beat_data_o), .mon_beat_fire_o(mon_beat_fire_o),
    .busy_o(busy_o), .done_o(done_o), .error_o(error_o), .error_code_o(error_code_o),
    .cnt_cycles_o(cnt_cycles_o), .cnt_words_o(cnt_words_o), .cnt_beats_o(cnt_beats_o),
    .cnt_starved_o(cnt_starved_o), .cnt_stalled_o(cnt_stalled_o)
);

// ---------------------------------------------------------------- state
integer cyc      = 0;  // cycle number (see header)
integer wi       = 0;  // words taken
integer ai       = 0;  // activations taken
integer bi       = 0;  // beats fired
integer yi       = 0;  // y taken
integer done_cyc = -1; // cycle done_o was first seen, -1 before
reg     started  = 1'b0;
reg     finished = 1'b0;
reg [31:0] rng   = 32'd0;
reg        gaps  = 1'b0;
reg [8*160-1:0] msg;
reg signed [Q-1:0]   got_q;
reg signed [Q-1:0]   want_q;
reg signed [ACC-1:0] got_y;
reg signed [ACC-1:0] want_y;
integer l;
integer bad_lane;
integer i;

task fail;
    input [8*160-1:0] what;
    input integer     beat;
    input integer     lane;
    begin
        if (!finished) begin
            finished = 1'b1;
            $display("FAIL %0s cycle=%0d beat=%0d lane=%0d", what, cyc, beat, lane);
            $finish;
        end
    end
endtask

// ---------------------------------------------------------------- set-up
initial begin
    if (!$value$plusargs("words_hex=%s", words_hex)) fail("missing_plusarg_words_hex", 0, -1);
    if (!$value$plusargs("beats_hex=%s", beats_hex)) fail("missing_plusarg_beats_hex", 0, -1);
    if (!$value$plusargs("acts_hex=%s", acts_hex))   fail("missing_plusarg_acts_hex", 0, -1);
    if (!$value$plusargs("y_hex=%s", y_hex))         fail("missing_plusarg_y_hex", 0, -1);
    if (!$value$plusargs("n_words=%d", n_words))     fail("missing_plusarg_n_words", 0, -1);
    if (!$value$plusargs("n_beats=%d", n_beats))     fail("missing_plusarg_n_beats", 0, -1);
    if (!$value$plusargs("O=%d", n_rows))            fail("missing_plusarg_O", 0, -1);
    if (!$value$plusargs("K=%d", n_cols))            fail("missing_plusarg_K", 0, -1);
    if (!$value$plusargs("seed=%d", seed))           seed = 0;
    if (!$value$plusargs("timeout=%d", timeout))
        timeout = 1000 + 16 * (n_words + n_beats + n_rows + n_cols);
    if (n_words < 1 || n_words > MAX_WORDS) fail("n_words_out_of_range", 0, -1);
    if (n_beats < 1 || n_beats > MAX_BEATS) fail("n_beats_out_of_range", 0, -1);
    if (n_rows < 1 || n_rows > MAX_O)       fail("O_out_of_range", 0, -1);
    if (n_cols < 1 || n_cols > MAX_K)       fail("K_out_of_range", 0, -1);

    // every entry starts as X: an entry a short file leaves unset is caught below
    $readmemh(words_hex, words_mem, 0, n_words - 1);
    $readmemh(beats_hex, beats_mem, 0, n_beats - 1);
    $readmemh(acts_hex, acts_mem, 0, n_cols - 1);
    $readmemh(y_hex, y_mem, 0, n_rows - 1);
    for (i = 0; i < n_words; i = i + 1)
        if (^words_mem[i] === 1'bx) fail("words_hex_short_or_bad", 0, -1);
    for (i = 0; i < n_beats; i = i + 1)
        if (^beats_mem[i] === 1'bx) fail("beats_hex_short_or_bad", 0, -1);
    for (i = 0; i < n_cols; i = i + 1)
        if (^acts_mem[i] === 1'bx) fail("acts_hex_short_or_bad", 0, -1);
    for (i = 0; i < n_rows; i = i + 1)
        if (^y_mem[i] === 1'bx) fail("y_hex_short_or_bad", 0, -1);

    gaps = seed != 0;
    rng  = seed == 0 ? 32'h1 : seed;

    // reset, then a start pulse (start_i high in cycle 0)
    rst = 1'b1;
    repeat (4) @(posedge clk);
    rst <= 1'b0;
    repeat (2) @(posedge clk);
    cfg_rows_i <= n_rows[15:0];
    cfg_cols_i <= n_cols;
    start_i    <= 1'b1;
    @(posedge clk);
    start_i    <= 1'b0;
end

// ---------------------------------------------------------------- drive and check
// All DUT outputs are sampled at the rising edge (values of the ending cycle);
// all DUT inputs change with non-blocking assignments at the edge.
always @(posedge clk) begin
    if (!finished && (started || start_i)) begin
        if (!started) begin
            // the edge that samples start_i: cycle 0 ends, nothing is checked yet
            started = 1'b1;
            cyc = 0;
        end else begin
            cyc = cyc + 1;

            if ((^{s_w_ready_o, s_act_ready_o, m_y_valid_o, m_y_last_o, mon_beat_fire_o,
                   busy_o, done_o, error_o}) === 1'bx)
                fail("x_on_handshake_or_status", bi, -1);
            if (error_o) begin
                $sformat(msg, "error_o_set(code=%0d)", error_code_o);
                fail(msg, bi, -1);
            end

            // input handshakes
            if (s_w_valid_i && s_w_ready_o) wi = wi + 1;
            if (s_act_valid_i && s_act_ready_o) ai = ai + 1;

            // beats entering the PE array
            if (mon_beat_fire_o) begin
                if (done_cyc >= 0) fail("beat_after_done", bi, -1);
                if (bi >= n_beats) begin
                    $sformat(msg, "extra_beat(expected=%0d)", n_beats);
                    fail(msg, bi, -1);
                end
                bad_lane = -1;
                for (l = N - 1; l >= 0; l = l - 1)
                    if (mon_beat_data_o[l*Q +: Q] !== beats_mem[bi][l*Q +: Q]) bad_lane = l;
                if (bad_lane >= 0) begin
                    got_q  = mon_beat_data_o[bad_lane*Q +: Q];
                    want_q = beats_mem[bi][bad_lane*Q +: Q];
                    $sformat(msg, "beat_data(got=%0d,want=%0d)", got_q, want_q);
                    fail(msg, bi, bad_lane);
                end
                bi = bi + 1;
            end

            // y out
            if (m_y_valid_o && m_y_ready_i) begin
                if (yi >= n_rows) begin
                    $sformat(msg, "extra_y(O=%0d)", n_rows);
                    fail(msg, bi, -1);
                end
                got_y  = m_y_data_o;
                want_y = y_mem[yi];
                if (got_y !== want_y) begin
                    $sformat(msg, "y_data(index=%0d,got=%0d,want=%0d)", yi, got_y, want_y);
                    fail(msg, bi, -1);
                end
                if (m_y_last_o !== (yi == n_rows - 1)) begin
                    $sformat(msg, "y_last(index=%0d,last=%0d)", yi, m_y_last_o);
                    fail(msg, bi, -1);
                end
                yi = yi + 1;
            end else if (done_cyc >= 0 && m_y_valid_o) begin
                fail("y_valid_after_done", bi, -1);
            end

            // completion
            if (done_cyc < 0 && done_o) begin
                done_cyc = cyc;
                if (bi != n_beats) begin
                    $sformat(msg, "beat_count(fired=%0d,expected=%0d)", bi, n_beats);
                    fail(msg, bi, -1);
                end
                if (yi != n_rows) begin
                    $sformat(msg, "y_count(taken=%0d,O=%0d)", yi, n_rows);
                    fail(msg, bi, -1);
                end
                if (wi != n_words) begin
                    $sformat(msg, "words_left(taken=%0d,sent=%0d)", wi, n_words);
                    fail(msg, bi, -1);
                end
                if (ai != n_cols) begin
                    $sformat(msg, "activations_left(taken=%0d,K=%0d)", ai, n_cols);
                    fail(msg, bi, -1);
                end
                if (cnt_words_o != n_words || cnt_beats_o != n_beats) begin
                    $sformat(msg, "counters(words=%0d,beats=%0d)", cnt_words_o, cnt_beats_o);
                    fail(msg, bi, -1);
                end
            end else if (done_cyc >= 0) begin
                if (!done_o) fail("done_o_dropped", bi, -1);
                if (busy_o) fail("busy_o_after_done", bi, -1);
                if (s_w_ready_o || s_act_ready_o) fail("ready_after_done", bi, -1);
                if (s_w_valid_i && s_w_ready_o) fail("word_taken_after_done", bi, -1);
                if (cyc >= done_cyc + TAIL) begin
                    if (!finished) begin
                        finished = 1'b1;
                        $display("PASS beats=%0d y=%0d cycles=%0d", bi, yi, done_cyc);
                        $finish;
                    end
                end
            end
            if (done_cyc < 0 && cyc >= timeout) begin
                $sformat(msg, "timeout(words=%0d,acts=%0d,y=%0d)", wi, ai, yi);
                fail(msg, bi, -1);
            end
        end

        // next traffic: one xorshift32 step per cycle
        rng = rng ^ (rng << 13);
        rng = rng ^ (rng >> 17);
        rng = rng ^ (rng << 5);

        // words: hold an untaken word; else offer the next one unless a gap is drawn
        if (!(s_w_valid_i && !s_w_ready_o)) begin
            if (wi < n_words && !(gaps && rng[4:0] < 5'd10)) begin
                s_w_valid_i <= 1'b1;
                s_w_data_i  <= words_mem[wi];
                s_w_last_i  <= wi == n_words - 1;
            end else begin
                s_w_valid_i <= 1'b0;
                s_w_data_i  <= gaps ? {((B + 31) / 32){rng}} : {B{1'b0}};
                s_w_last_i  <= gaps ? rng[7] : 1'b0;
            end
        end
        // activations: the same
        if (!(s_act_valid_i && !s_act_ready_o)) begin
            if (ai < n_cols && !(gaps && rng[12:8] < 5'd10)) begin
                s_act_valid_i <= 1'b1;
                s_act_data_i  <= acts_mem[ai];
            end else begin
                s_act_valid_i <= 1'b0;
                s_act_data_i  <= gaps ? {((QA + 31) / 32){rng}} : {QA{1'b0}};
            end
        end
        // y: backpressure
        m_y_ready_i <= !(gaps && rng[20:16] < 5'd10);
    end
end

endmodule

`resetall
`default_nettype wire
