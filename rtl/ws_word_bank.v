// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream word bank: the smallest input buffer an aligner can take
 * M words per cycle from
 *
 * Holds up to M bus words with their `last` flags in a shift register and
 * presents them as ws_word_fifo does (head word j = the j-th oldest), with
 * the same ports and handshake: the bus writes one word per cycle while
 * fewer than M are held (s_ready_o from registered state only:
 * en_i & ~last_seen & (count < M)); the reader takes 0..M of the present
 * words per cycle and the rest shift down.  clear_i empties the bank and
 * forgets the last word, overriding a write in the same cycle.
 *
 * It stands in for the word FIFO where the FIFO's depth is not what is
 * measured (ws_front_end: the decoder's own cost), so the aligner's take
 * -> bank path stands for the top's take -> FIFO head path.
 * A bank of M words cannot bank words for bursty stretches: behind it the
 * decoder runs below the throughput the 128-word FIFO gives.
 */
module ws_word_bank #(
    // word width in bits
    parameter integer B = 64,
    // words presented to (and taken by) the reader per cycle, and held at most
    parameter integer M = 3
) (
    // clock
    input  wire                       clk,
    // synchronous active-high reset
    input  wire                       rst,

    // empty the bank, forget the last word (start of a layer)
    input  wire                       clear_i,
    // the consumer takes words (registered state of the consumer)
    input  wire                       en_i,

    // bus word input: data (stream bit j*B + i in bit i)
    input  wire [B-1:0]               s_data_i,
    // bus word input: valid
    input  wire                       s_valid_i,
    // bus word input: this is the final word of the layer
    input  wire                       s_last_i,
    // bus word input: ready (registered state only)
    output wire                       s_ready_o,

    // head words: word j (the j-th oldest held) in bits [j*B +: B]
    output wire [M*B-1:0]             m_data_o,
    // head words: word j is present (thermometer code, j < count)
    output wire [M-1:0]               m_valid_o,
    // head words: word j is the final word of the layer
    output wire [M-1:0]               m_last_o,
    // head words: number taken this cycle (0..M, only present ones)
    input  wire [$clog2(M+1)-1:0]     m_pop_i,

    // status: no word held
    output wire                       empty_o
);

// count width: 0..M words held
localparam integer BW = $clog2(M + 1);

localparam [BW-1:0] M_C = M[BW-1:0];

reg [B-1:0]  word_q [0:M-1];
reg [M-1:0]  wlast_q;
reg [BW-1:0] cnt_q, cnt_d;
// the last-flagged word has been written
reg          seen_q, seen_d;

// the bus writes into slot cnt_q - pop; the pop is at most cnt_q
wire          push     = s_valid_i && s_ready_o;
wire [BW-1:0] keep_cnt = cnt_q - m_pop_i;

assign s_ready_o = en_i && !seen_q && (cnt_q != M_C);
assign empty_o   = cnt_q == {BW{1'b0}};

genvar j;
generate
    for (j = 0; j < M; j = j + 1) begin : g_slot
        localparam [BW-1:0] J_C = j;
        assign m_data_o[j*B +: B] = word_q[j];
        assign m_last_o[j]        = wlast_q[j];
        assign m_valid_o[j]       = cnt_q > J_C;

        // slot j after the pop: the word pop slots above, or the bus word
        reg [B-1:0] word_d;
        reg         wlast_d;
        integer     k;
        always @* begin
            word_d  = word_q[j];
            wlast_d = wlast_q[j];
            for (k = 0; k < M - j; k = k + 1) begin
                if (m_pop_i == k[BW-1:0]) begin
                    word_d  = word_q[j + k];
                    wlast_d = wlast_q[j + k];
                end
            end
            if (push && keep_cnt == J_C) begin
                word_d  = s_data_i;
                wlast_d = s_last_i;
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
    seen_d = seen_q || (push && s_last_i);
    if (clear_i) begin
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

endmodule

`resetall
`default_nettype wire
