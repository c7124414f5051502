// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream symbol table in flip-flops: canonical index -> symbol, N
 * read ports (small Q: 2^Q entries of Q bits, 64 bits at Q = 4)
 *
 * Written by the Huffman header loader SPC symbols per cycle: the entries
 * form blocks of SPC, block widx/SPC is written whole from wdata_i (entry
 * e from slot e mod SPC), so an entry has one source and a write enable,
 * no multiplexer.  Read port p: ridx_i[p] in one cycle, rdata_o[p] (a
 * register) in the next, as ws_sym_table_ram (the two are interchangeable).
 */
module ws_sym_table_ff #(
    // read ports
    parameter integer N   = 8,
    // symbol bits (2^Q entries)
    parameter integer Q   = 4,
    // symbols per write
    parameter integer SPC = 4
) (
    // clock
    input  wire             clk,

    // write: SPC symbols this cycle
    input  wire             we_i,
    // write: index of the first (a multiple of SPC)
    input  wire [Q-1:0]     widx_i,
    // write: symbol widx_i + i in [i*Q +: Q]
    input  wire [SPC*Q-1:0] wdata_i,

    // read: port p's index in [p*Q +: Q]
    input  wire [N*Q-1:0]   ridx_i,
    // read: port p's symbol in [p*Q +: Q], one cycle after its index
    output wire [N*Q-1:0]   rdata_o
);

localparam integer E = 1 << Q;

// parameter checks
generate
    if (N < 1 || Q < 1 || SPC < 1 || SPC > E) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_sym_table_ff: need N, Q >= 1 and 1 <= SPC <= 2^Q");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// the entries, no reset: every entry read has been written
reg  [E*Q-1:0] tbl_q;

genvar ge;
generate
    for (ge = 0; ge < E; ge = ge + 1) begin : g_entry
        // its block's first index and its slot in the write
        localparam integer BASE = ge / SPC * SPC;
        localparam [Q-1:0] BASE_Q = BASE[Q-1:0];
        always @(posedge clk) begin
            if (we_i && widx_i == BASE_Q) begin
                tbl_q[ge*Q +: Q] <= wdata_i[(ge % SPC)*Q +: Q];
            end
        end
    end
endgenerate

reg  [N*Q-1:0] rd_q;
integer        rp;
always @(posedge clk) begin
    for (rp = 0; rp < N; rp = rp + 1) begin
        rd_q[rp*Q +: Q] <= tbl_q[ridx_i[rp*Q +: Q]*Q +: Q];
    end
end

assign rdata_o = rd_q;

endmodule

`resetall
`default_nettype wire
