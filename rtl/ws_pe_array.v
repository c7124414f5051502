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
 * Lane l holds the accumulators of rows l, l+N, l+2N, ...: a register array
 * of T = ceil(MAX_O/N) entries of N*ACC bits, entry t = rows t*N .. t*N+N-1.
 * A fired beat is registered together with its activation (stage 1) and
 * entry t is read, updated and written in the next cycle (stage 2):
 *   acc[t][l] = (k == 0 ? 0 : acc[t][l]) + sext(w_l) * sext(a_k)
 * in wrapping ACC-bit two's complement, so no clearing pass is needed.
 * Consecutive beats of the same tile (O <= N) need no forwarding: stage 2
 * reads the entry written in the previous cycle.
 *
 * Activations a[0..K) arrive in order; a current and a next register let
 * the next activation load while the current column runs, so columns
 * follow each other without a bubble.  The beat ready is high while the
 * current activation is valid (registered state only).
 *
 * After the last beat has been accumulated and out_en_i is high (the
 * decoder has checked the end of the stream), y[0..O) is streamed out
 * (m_y_last_o on y[O-1]), then done_o is set (sticky until start_i).
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
    parameter integer MAX_O = 1280
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
    // beat input: last tile of the column
    input  wire                                 s_beat_eoc_i,
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

    // result output: y[o], o = 0..O-1 in order
    output wire [ACC-1:0]                       m_y_data_o,
    // result output: valid
    output wire                                 m_y_valid_o,
    // result output: marks y[O-1]
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

localparam integer NM1_I = N - 1;
localparam [LIW-1:0] N_M1 = NM1_I[LIW-1:0];

localparam [1:0] ST_IDLE = 2'd0;
localparam [1:0] ST_RUN  = 2'd1;
localparam [1:0] ST_OUT  = 2'd2;
localparam [1:0] ST_DONE = 2'd3;

// parameter checks
generate
    if (N < 1 || Q < 1 || QA < 1 || ACC < Q + QA || MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_pe_array: need N, Q, QA >= 1, ACC >= Q + QA and 1 <= MAX_O <= 65535");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg [1:0]      st_q, st_d;
reg [RW-1:0]   rows_q, rows_d;
reg [31:0]     cols_q, cols_d;
reg            bdone_q, bdone_d;   // last beat has fired
reg            done_q, done_d;

// activations: current column, next column, count accepted
reg            cur_v_q, cur_v_d;
reg [QA-1:0]   cur_q, cur_d;
reg            nxt_v_q, nxt_v_d;
reg [QA-1:0]   nxt_q, nxt_d;
reg [31:0]     acnt_q, acnt_d;

// stage 1: registered beat with its activation
reg            p_v_q, p_v_d;
reg [N*Q-1:0]  p_w_q, p_w_d;
reg [QA-1:0]   p_a_q, p_a_d;
reg [TW-1:0]   p_t_q, p_t_d;
reg            p_first_q, p_first_d;

// output phase position
reg [TW-1:0]   y_t_q, y_t_d;
reg [LIW-1:0]  y_l_q, y_l_d;
reg [RW-1:0]   y_row_q, y_row_d;

// accumulator array
reg [N*ACC-1:0] acc_q [0:T-1];
wire [N*ACC-1:0] acc_wdata;
wire [N*ACC-1:0] acc_old = acc_q[p_t_q];
wire [N*ACC-1:0] acc_y   = acc_q[y_t_q];

// O is range-checked by the decoder; only its low RW bits are kept here
wire unused_cfg_rows = ^cfg_rows_i;

wire running   = (st_q == ST_RUN);
wire beat_fire = s_beat_valid_i && s_beat_ready_o;
wire act_fire  = s_act_valid_i && s_act_ready_o;
wire y_fire    = m_y_valid_o && m_y_ready_i;
wire y_last    = (y_row_q == rows_q - 1'b1);

assign s_beat_ready_o = running && !bdone_q && cur_v_q;
assign s_act_ready_o  = running && !abort_i && !nxt_v_q && (acnt_q != cols_q);
assign m_y_valid_o    = (st_q == ST_OUT);
assign m_y_last_o     = y_last;
assign m_y_data_o     = acc_y[y_l_q*ACC +: ACC];
assign busy_o         = running || (st_q == ST_OUT);
assign done_o         = done_q;

// stage 2: multiply-accumulate per lane
genvar l;
generate
    for (l = 0; l < N; l = l + 1) begin : g_mac
        wire [Q-1:0]   w     = p_w_q[l*Q +: Q];
        wire [PW-1:0]  w_x   = {{QA{w[Q-1]}}, w};
        wire [PW-1:0]  a_x   = {{Q{p_a_q[QA-1]}}, p_a_q};
        wire [PW-1:0]  prod  = w_x * a_x;
        wire [ACC-1:0] prod_x = {{(ACC-PW){prod[PW-1]}}, prod};
        wire [ACC-1:0] base  = p_first_q ? {ACC{1'b0}} : acc_old[l*ACC +: ACC];
        assign acc_wdata[l*ACC +: ACC] = base + prod_x;
    end
endgenerate

always @* begin
    st_d      = st_q;
    rows_d    = rows_q;
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
    y_t_d     = y_t_q;
    y_l_d     = y_l_q;
    y_row_d   = y_row_q;

    case (st_q)
        ST_RUN: begin
            // activation buffer
            if (act_fire) begin
                acnt_d = acnt_q + 32'd1;
            end
            if (beat_fire && s_beat_eoc_i) begin
                // current activation done: move next (or the incoming) up
                if (nxt_v_q) begin
                    cur_d   = nxt_q;
                    nxt_v_d = 1'b0;
                end else if (act_fire) begin
                    cur_d   = s_act_data_i;
                end else begin
                    cur_v_d = 1'b0;
                end
            end else if (act_fire) begin
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
                p_a_d     = cur_q;
                p_t_d     = s_beat_tile_i;
                p_first_d = s_beat_first_i;
                if (s_beat_last_i) begin
                    bdone_d = 1'b1;
                end
            end

            // all beats accumulated and the stream checked: output y
            if (bdone_q && !p_v_q && out_en_i) begin
                st_d = ST_OUT;
            end
        end
        ST_OUT: begin
            if (y_fire) begin
                y_row_d = y_row_q + 1'b1;
                if (y_l_q == N_M1) begin
                    y_l_d = {LIW{1'b0}};
                    y_t_d = y_t_q + 1'b1;
                end else begin
                    y_l_d = y_l_q + 1'b1;
                end
                if (y_last) begin
                    st_d   = ST_DONE;
                    done_d = 1'b1;
                end
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
    end

    if (start_i) begin
        st_d    = ST_RUN;
        rows_d  = cfg_rows_i[RW-1:0];
        cols_d  = cfg_cols_i;
        bdone_d = 1'b0;
        done_d  = 1'b0;
        cur_v_d = 1'b0;
        nxt_v_d = 1'b0;
        acnt_d  = 32'd0;
        p_v_d   = 1'b0;
        y_t_d   = {TW{1'b0}};
        y_l_d   = {LIW{1'b0}};
        y_row_d = {RW{1'b0}};
    end
end

always @(posedge clk) begin
    if (rst) begin
        st_q      <= ST_IDLE;
        rows_q    <= {RW{1'b0}};
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
        y_t_q     <= {TW{1'b0}};
        y_l_q     <= {LIW{1'b0}};
        y_row_q   <= {RW{1'b0}};
    end else begin
        st_q      <= st_d;
        rows_q    <= rows_d;
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
        y_t_q     <= y_t_d;
        y_l_q     <= y_l_d;
        y_row_q   <= y_row_d;
    end
end

// accumulator array: one read-modify-write of entry p_t_q per cycle, no
// reset (the first column overwrites every used entry)
always @(posedge clk) begin
    if (p_v_q) begin
        acc_q[p_t_q] <= acc_wdata;
    end
end

endmodule

`resetall
`default_nettype wire
