// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream PE array
 *
 * Computes y = W a for one layer from a stream of weight beats.  Beat (t, k)
 * holds W[t*N + l][k] in lane l; it arrives with its tile index t and the
 * side band flags first (k == 0), eoc (last tile of the column) and last
 * (last beat of the layer).
 *
 * Accumulators: one memory of T = ceil(MAX_O/N) entries of N*ACC bits,
 * entry t = rows t*N .. t*N+N-1 (lane l at bits l*ACC), with one write port
 * and one synchronous read port whose data is registered (rd_q), written in
 * the style yosys maps to iCE40 block RAM (SB_RAM40_4K).  It has no reset:
 * the first column (k == 0) overwrites every entry of the layer before it
 * is read.
 *
 * Read-modify-write pipeline, one beat per cycle:
 *   stage 1: the fired beat is registered with its activation (p_*); the
 *            memory reads entry p_t_q into rd_q.
 *   stage 2: (s_*) per lane, sum = base + sext(w_l * a_k), Q x QA signed
 *            products in Q+QA bits, ACC-bit wrapping; base is 0 for the
 *            first column, else the entry read in stage 1.  The sum is
 *            written to entry s_t_q at the end of stage 2 and kept in buf_q.
 * The read of a beat in stage 1 does not see the write of the beat ahead of
 * it in stage 2 (same clock edge, read before write), so when both are of
 * the same tile (every pair of consecutive beats when O <= N, the layer
 * then has one tile) stage 2 takes base from buf_q, the sum written in the
 * previous cycle (s_fwd_q, compared a cycle ahead).  A beat two cycles ahead
 * has been written before the read.
 *
 * Activations a[0..K) arrive in order; a current and a next register let
 * the next activation load while the current column runs, so columns
 * follow each other without a bubble.  The beat ready is high while the
 * current activation is valid (registered state only).
 *
 * AG > 1 (the nm top, beats group by group: for g, for t, for j < m_g):
 * a ring of 2*AG activations; beat (t, g*m + j) takes the one j after the
 * head (s_beat_col_i), the group's last beat (eoc) pops j + 1, and the
 * beat ready is a register: AG activations held, or all K taken, so the
 * current group (m <= AG columns) is in the ring; the next group loads
 * while the current one runs.
 *
 * Output phase: after the last beat has been written and out_en_i is high
 * (the decoder has checked the end of the stream), y[0..O) is streamed out
 * (m_y_last_o on y[O-1]), then done_o is set (sticky until start_i).  There
 * are no beats then, so the read port reads tile rt_q (prefetch); stage 2's
 * activation register is zero, so its adder passes rd_q through into buf_q,
 * which then shifts one lane (ACC bits) down per y: m_y_data_o is buf_q's
 * lane 0, m_y_valid_o and m_y_last_o are registers.  The next tile is read
 * while the current one is emitted and loaded as its last lane leaves: one
 * y per cycle while m_y_ready_i is high (N >= 2; with N == 1 every other
 * cycle).  With out_en_i high, the last beat fired in cycle c gives y[0]
 * valid in cycle c + 5 (stage 1 c+1, stage 2 c+2, read of tile 0 c+3, load
 * into buf_q c+4).
 * abort_i (decoder error) ends the layer at once: no y is output.
 */
module ws_pe_array #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // activation bits
    parameter integer QA    = 8,
    // accumulator / output bits
    parameter integer ACC   = 32,
    // largest supported number of rows O
    parameter integer MAX_O = 1280,
    // activations a beat may choose from: 1 (column order) or the largest
    // group m of a group-ordered (nm) stream, a power of two up to 16
    parameter integer AG    = 1
) (
    // clock
    input  wire                                 clk,
    // synchronous active-high reset
    input  wire                                 rst,

    // 1-cycle pulse: latch the configuration and begin a layer
    input  wire                                 start_i,
    // configuration: rows O (checked by the decoder)
    input  wire [15:0]                          cfg_rows_i,
    // configuration: columns K (checked by the decoder)
    input  wire [31:0]                          cfg_cols_i,
    // end the layer now (decoder error)
    input  wire                                 abort_i,
    // the output phase may begin (decoder done)
    input  wire                                 out_en_i,

    // beat input: N lanes of Q-bit signed weights
    input  wire [N*Q-1:0]                       s_beat_data_i,
    // beat input: row tile index t
    input  wire [((MAX_O+N-1)/N > 1 ? $clog2((MAX_O+N-1)/N) : 1)-1:0] s_beat_tile_i,
    // beat input: first column (k == 0)
    input  wire                                 s_beat_first_i,
    // beat input: last tile of the column (AG > 1: last beat of the group)
    input  wire                                 s_beat_eoc_i,
    // beat input: AG > 1: column j within the group (unused when AG == 1)
    input  wire [3:0]                           s_beat_col_i,
    // beat input: last beat of the layer
    input  wire                                 s_beat_last_i,
    // beat input: valid
    input  wire                                 s_beat_valid_i,
    // beat input: ready (registered state only)
    output wire                                 s_beat_ready_o,

    // activation input: QA-bit signed a[k], k = 0..K-1 in order
    input  wire [QA-1:0]                        s_act_data_i,
    // activation input: valid
    input  wire                                 s_act_valid_i,
    // activation input: ready
    output wire                                 s_act_ready_o,

    // result output: y[o], o = 0..O-1 in order (registered)
    output wire [ACC-1:0]                       m_y_data_o,
    // result output: valid (registered)
    output wire                                 m_y_valid_o,
    // result output: marks y[O-1] (registered)
    output wire                                 m_y_last_o,
    // result output: ready
    input  wire                                 m_y_ready_i,

    // status: layer in progress (start until done or abort)
    output wire                                 busy_o,
    // status: all of y has been output (sticky until start_i)
    output wire                                 done_o
);

localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;
localparam integer RW    = $clog2(MAX_O + 1);
localparam integer LIW   = N > 1 ? $clog2(N) : 1;
localparam integer PW    = Q + QA;
localparam integer NA    = N * ACC;

localparam integer NM1_I = N - 1;
localparam [LIW-1:0] N_M1 = NM1_I[LIW-1:0];
localparam integer ONE_I = 1;
localparam integer TWO_I = 2;
localparam [RW-1:0]  ONE_R = ONE_I[RW-1:0];
localparam [RW-1:0]  TWO_R = TWO_I[RW-1:0];

localparam [1:0] ST_IDLE = 2'd0;
localparam [1:0] ST_RUN  = 2'd1;
localparam [1:0] ST_OUT  = 2'd2;
localparam [1:0] ST_DONE = 2'd3;

// parameter checks
generate
    if (N < 1 || Q < 1 || QA < 1 || ACC < Q + QA || MAX_O < 1 || MAX_O > 65535 ||
        AG < 1 || AG > 16 || (AG & (AG - 1)) != 0) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_pe_array: need N, Q, QA >= 1, ACC >= Q + QA, 1 <= MAX_O <= 65535, AG a power of two <= 16");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg [1:0]      st_q, st_d;
reg [31:0]     cols_q, cols_d;
reg            bdone_q, bdone_d;   // last beat has fired
reg            done_q, done_d;

// activations: current column, next column, count accepted
reg            cur_v_q, cur_v_d;
reg [QA-1:0]   cur_q, cur_d;
reg            nxt_v_q, nxt_v_d;
reg [QA-1:0]   nxt_q, nxt_d;
reg [31:0]     acnt_q, acnt_d;

// stage 1: registered beat with its activation; entry p_t_q is read
reg            p_v_q, p_v_d;
reg [N*Q-1:0]  p_w_q, p_w_d;
reg [QA-1:0]   p_a_q, p_a_d;
reg [TW-1:0]   p_t_q, p_t_d;
reg            p_first_q, p_first_d;

// stage 2: multiply-accumulate and write of entry s_t_q
reg            s_v_q, s_v_d;
reg [N*Q-1:0]  s_w_q, s_w_d;
reg [QA-1:0]   s_a_q, s_a_d;       // zero while stage 2 is empty
reg [TW-1:0]   s_t_q, s_t_d;
reg            s_first_q, s_first_d;
reg            s_fwd_q, s_fwd_d;   // base from buf_q (written last cycle)

// run: the last sum written; output: the tile being emitted, lane 0 first
reg [NA-1:0]   buf_q, buf_d;

// output phase: tile read (prefetch), its data in rd_q, lanes left, y left
reg [TW-1:0]   rt_q, rt_d;
reg            rv_q, rv_d;         // rd_q holds entry rt_q
reg [LIW-1:0]  y_l_q, y_l_d;       // lane of buf_q's lane 0 in its tile
reg            y_v_q, y_v_d;
reg [RW-1:0]   y_left_q, y_left_d; // y not yet output (O at start)
reg            y_last_q, y_last_d; // y_left_q == 1

// accumulator memory: one synchronous read port, one write port.  The
// data read on the edge that writes the same entry is never used (stage 2
// forwards buf_q instead), so yosys may map the memory to iCE40 block RAM
// whose read-during-write result is undefined, without emulating old data.
(* no_rw_check *)
reg [NA-1:0]   mem [0:T-1];
reg [NA-1:0]   rd_q;
wire [TW-1:0]  mem_ra = p_v_q ? p_t_q : rt_q;
wire           mem_we = s_v_q;
wire [NA-1:0]  mem_wd;

// O is range-checked by the decoder; only its low RW bits are kept here
wire unused_cfg_rows = ^cfg_rows_i;

wire running   = (st_q == ST_RUN);
wire beat_fire = s_beat_valid_i && s_beat_ready_o;
wire act_fire  = s_act_valid_i && s_act_ready_o;
wire y_fire    = y_v_q && m_y_ready_i;

// the current beat's activation, its readiness and room for the next
wire [QA-1:0]  beat_act;
wire           act_ok;
wire           act_room;

assign s_beat_ready_o = running && !bdone_q && act_ok;
assign s_act_ready_o  = running && !abort_i && act_room && (acnt_q != cols_q);
assign m_y_valid_o    = y_v_q;
assign m_y_last_o     = y_last_q;
assign m_y_data_o     = buf_q[ACC-1:0];
assign busy_o         = running || (st_q == ST_OUT);
assign done_o         = done_q;

// stage 2: multiply-accumulate per lane (in the output phase s_a_q, s_first_q
// and s_fwd_q are zero: mem_wd = rd_q)
genvar l;
generate
    for (l = 0; l < N; l = l + 1) begin : g_mac
        wire signed [Q-1:0]  w      = s_w_q[l*Q +: Q];
        wire signed [QA-1:0] a      = s_a_q;
        wire signed [PW-1:0] prod   = w * a;
        wire [ACC-1:0]       prod_x;
        wire [ACC-1:0]       base   = s_first_q ? {ACC{1'b0}} :
                                      s_fwd_q   ? buf_q[l*ACC +: ACC] :
                                                  rd_q[l*ACC +: ACC];
        if (ACC > PW) begin : g_ext
            assign prod_x = {{(ACC-PW){prod[PW-1]}}, prod};
        end else begin : g_noext
            assign prod_x = prod;
        end
        assign mem_wd[l*ACC +: ACC] = base + prod_x;
    end
endgenerate

always @* begin
    st_d      = st_q;
    cols_d    = cols_q;
    bdone_d   = bdone_q;
    done_d    = done_q;
    cur_v_d   = cur_v_q;
    cur_d     = cur_q;
    nxt_v_d   = nxt_v_q;
    nxt_d     = nxt_q;
    acnt_d    = acnt_q;
    p_v_d     = 1'b0;
    p_w_d     = p_w_q;
    p_a_d     = p_a_q;
    p_t_d     = p_t_q;
    p_first_d = p_first_q;
    // stage 1 moves to stage 2 every cycle
    s_v_d     = p_v_q;
    s_w_d     = p_w_q;
    s_a_d     = p_v_q ? p_a_q : {QA{1'b0}};
    s_t_d     = p_t_q;
    s_first_d = p_v_q && p_first_q;
    s_fwd_d   = p_v_q && s_v_q && (p_t_q == s_t_q);
    buf_d     = s_v_q ? mem_wd : buf_q;
    rt_d      = rt_q;
    rv_d      = 1'b0;
    y_l_d     = y_l_q;
    y_v_d     = y_v_q;
    y_left_d  = y_left_q;
    y_last_d  = y_last_q;

    case (st_q)
        ST_RUN: begin
            // activation buffer (AG == 1; g_grp's ring otherwise)
            if (act_fire) begin
                acnt_d = acnt_q + 32'd1;
            end
            if (AG == 1 && beat_fire && s_beat_eoc_i) begin
                // current activation done: move next (or the incoming) up
                if (nxt_v_q) begin
                    cur_d   = nxt_q;
                    nxt_v_d = 1'b0;
                end else if (act_fire) begin
                    cur_d   = s_act_data_i;
                end else begin
                    cur_v_d = 1'b0;
                end
            end else if (AG == 1 && act_fire) begin
                if (cur_v_q) begin
                    nxt_v_d = 1'b1;
                    nxt_d   = s_act_data_i;
                end else begin
                    cur_v_d = 1'b1;
                    cur_d   = s_act_data_i;
                end
            end

            // beat into stage 1
            if (beat_fire) begin
                p_v_d     = 1'b1;
                p_w_d     = s_beat_data_i;
                p_a_d     = beat_act;
                p_t_d     = s_beat_tile_i;
                p_first_d = s_beat_first_i;
                if (s_beat_last_i) begin
                    bdone_d = 1'b1;
                end
            end

            // all beats written and the stream checked: output y; the
            // memory is idle (no beat in stage 1 or 2), so this edge reads
            // tile rt_q == 0 after the last write
            if (bdone_q && !p_v_q && !s_v_q && out_en_i) begin
                st_d = ST_OUT;
                rv_d = 1'b1;
            end
        end
        ST_OUT: begin
            rv_d = 1'b1;
            if (y_fire) begin
                buf_d    = buf_q >> ACC;
                y_l_d    = y_l_q + 1'b1;
                y_left_d = y_left_q - 1'b1;
                y_last_d = (y_left_q == TWO_R);
                if (y_l_q == N_M1) begin
                    y_v_d = 1'b0;
                end
                if (y_last_q) begin
                    y_v_d  = 1'b0;
                    st_d   = ST_DONE;
                    done_d = 1'b1;
                end
            end
            // buf_q empty after this cycle: load the prefetched tile (through
            // the stage 2 adder) and read the next one
            if ((!y_v_q || (y_fire && y_l_q == N_M1)) && rv_q && !(y_fire && y_last_q)) begin
                buf_d = mem_wd;
                y_l_d = {LIW{1'b0}};
                y_v_d = 1'b1;
                rt_d  = rt_q + 1'b1;
                rv_d  = 1'b0;
            end
        end
        default: begin
            // idle or done: wait for start
        end
    endcase

    if (abort_i && st_q != ST_DONE) begin
        st_d    = ST_IDLE;
        cur_v_d = 1'b0;
        nxt_v_d = 1'b0;
        p_v_d   = 1'b0;
        s_v_d   = 1'b0;
        y_v_d   = 1'b0;
    end

    if (start_i) begin
        st_d     = ST_RUN;
        cols_d   = cfg_cols_i;
        bdone_d  = 1'b0;
        done_d   = 1'b0;
        cur_v_d  = 1'b0;
        nxt_v_d  = 1'b0;
        acnt_d   = 32'd0;
        p_v_d    = 1'b0;
        s_v_d    = 1'b0;
        rt_d     = {TW{1'b0}};
        rv_d     = 1'b0;
        y_l_d    = {LIW{1'b0}};
        y_v_d    = 1'b0;
        y_left_d = cfg_rows_i[RW-1:0];
        y_last_d = (cfg_rows_i[RW-1:0] == ONE_R);
    end
end

always @(posedge clk) begin
    if (rst) begin
        st_q      <= ST_IDLE;
        cols_q    <= 32'd0;
        bdone_q   <= 1'b0;
        done_q    <= 1'b0;
        cur_v_q   <= 1'b0;
        cur_q     <= {QA{1'b0}};
        nxt_v_q   <= 1'b0;
        nxt_q     <= {QA{1'b0}};
        acnt_q    <= 32'd0;
        p_v_q     <= 1'b0;
        p_w_q     <= {N*Q{1'b0}};
        p_a_q     <= {QA{1'b0}};
        p_t_q     <= {TW{1'b0}};
        p_first_q <= 1'b0;
        s_v_q     <= 1'b0;
        s_w_q     <= {N*Q{1'b0}};
        s_a_q     <= {QA{1'b0}};
        s_t_q     <= {TW{1'b0}};
        s_first_q <= 1'b0;
        s_fwd_q   <= 1'b0;
        buf_q     <= {NA{1'b0}};
        rt_q      <= {TW{1'b0}};
        rv_q      <= 1'b0;
        y_l_q     <= {LIW{1'b0}};
        y_v_q     <= 1'b0;
        y_left_q  <= {RW{1'b0}};
        y_last_q  <= 1'b0;
    end else begin
        st_q      <= st_d;
        cols_q    <= cols_d;
        bdone_q   <= bdone_d;
        done_q    <= done_d;
        cur_v_q   <= cur_v_d;
        cur_q     <= cur_d;
        nxt_v_q   <= nxt_v_d;
        nxt_q     <= nxt_d;
        acnt_q    <= acnt_d;
        p_v_q     <= p_v_d;
        p_w_q     <= p_w_d;
        p_a_q     <= p_a_d;
        p_t_q     <= p_t_d;
        p_first_q <= p_first_d;
        s_v_q     <= s_v_d;
        s_w_q     <= s_w_d;
        s_a_q     <= s_a_d;
        s_t_q     <= s_t_d;
        s_first_q <= s_first_d;
        s_fwd_q   <= s_fwd_d;
        buf_q     <= buf_d;
        rt_q      <= rt_d;
        rv_q      <= rv_d;
        y_l_q     <= y_l_d;
        y_v_q     <= y_v_d;
        y_left_q  <= y_left_d;
        y_last_q  <= y_last_d;
    end
end

// ---- activations ------------------------------------------------------------
generate
    if (AG > 1) begin : g_grp
        localparam integer AD  = 2 * AG;
        localparam integer ADW = $clog2(AD);
        localparam integer AJ  = $clog2(AG);
        localparam [ADW:0] AG_C = AG[ADW:0];
        // no reset: an entry is written before a beat reads it
        reg  [QA-1:0]  ab_q [0:AD-1];
        reg  [ADW-1:0] hd_q;       // the current group's column 0
        reg  [ADW:0]   ac_q;       // activations held, 0..AD
        reg            ok_q;       // AG held, or all K taken
        wire [ADW-1:0] col = {{(ADW-AJ){1'b0}}, s_beat_col_i[AJ-1:0]};
        wire           pop = beat_fire && s_beat_eoc_i;
        wire [ADW:0]   popn = pop ? {1'b0, col} + 1'b1 : {(ADW+1){1'b0}};
        wire [ADW:0]   ac_d = ac_q + {{ADW{1'b0}}, act_fire} - popn;
        wire [ADW-1:0] wr = hd_q + ac_q[ADW-1:0];
        // the activation inputs' bits above AJ are unused
        wire           unused_col = ^s_beat_col_i;
        always @(posedge clk) begin
            if (act_fire) begin
                ab_q[wr] <= s_act_data_i;
            end
            if (rst || start_i || abort_i) begin
                hd_q <= {ADW{1'b0}};
                ac_q <= {(ADW+1){1'b0}};
                ok_q <= 1'b0;
            end else begin
                hd_q <= hd_q + popn[ADW-1:0];
                ac_q <= ac_d;
                ok_q <= ac_d >= AG_C || acnt_d == cols_q;
            end
        end
        assign beat_act = ab_q[hd_q + col];
        assign act_ok   = ok_q;
        assign act_room = ac_q != {1'b1, {ADW{1'b0}}};
    end else begin : g_col
        // the group column is 0: one activation per column
        wire unused_col = ^s_beat_col_i;
        assign beat_act = cur_q;
        assign act_ok   = cur_v_q;
        assign act_room = !nxt_v_q;
    end
endgenerate

// accumulator memory (block RAM): write port from stage 2, registered read
// (read before write on the same edge); no reset on either (entries are
// only read after the first column has written them)
always @(posedge clk) begin
    if (mem_we) begin
        mem[s_t_q] <= mem_wd;
    end
    rd_q <= mem[mem_ra];
end

endmodule

`resetall
`default_nettype wire
