// Self-test top for the weightstream-sim crate (not part of the product RTL).
// Exercises every port storage class Verilator uses (1/8/16/32/64-bit and a
// >64-bit "wide" port whose width is not a multiple of 32), a free-running
// counter, and a small valid/ready FIFO so the Source/Sink helpers can be
// tested under back-pressure. `finish_i`/`stop_i` drive $finish/$stop so the
// harness can check they don't abort the host process.
`default_nettype none
module ws_sim_selftest #(
    parameter integer W     = 100,  // FIFO data width: wide on purpose (4 words)
    parameter integer DEPTH = 4     // FIFO depth, power of two
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          en_i,
    output reg  [31:0]   count_o,
    // Pass-through ports, one per storage class, to round-trip set/get.
    input  wire [6:0]    b_i,
    output wire [6:0]    b_o,
    input  wire [12:0]   h_i,
    output wire [12:0]   h_o,
    input  wire [31:0]   w_i,
    output wire [31:0]   w_o,
    input  wire [47:0]   q_i,
    output wire [47:0]   q_o,
    input  wire [W-1:0]  wide_i,
    output wire [W-1:0]  wide_o,
    // FIFO input side
    input  wire [W-1:0]  s_data_i,
    input  wire          s_valid_i,
    input  wire          s_last_i,
    output wire          s_ready_o,
    // FIFO output side
    output wire [W-1:0]  m_data_o,
    output wire          m_valid_o,
    output wire          m_last_o,
    input  wire          m_ready_i,
    output wire [$clog2(DEPTH):0] level_o,
    // Simulation control
    input  wire          finish_i,
    input  wire          stop_i
);
    assign b_o    = ~b_i;
    assign h_o    = h_i + 13'd1;
    assign w_o    = w_i ^ 32'hA5A5_5A5A;
    assign q_o    = q_i + 48'd1;
    assign wide_o = ~wide_i;

    always @(posedge clk) begin
        if (rst) count_o <= 32'd0;
        else if (en_i) count_o <= count_o + 32'd1;
    end

    localparam integer AW = $clog2(DEPTH);
    reg [W:0]  mem [0:DEPTH-1];  // {last, data}
    reg [AW:0] wr_ptr, rd_ptr;
    wire       full  = (wr_ptr[AW] != rd_ptr[AW]) && (wr_ptr[AW-1:0] == rd_ptr[AW-1:0]);
    wire       empty = (wr_ptr == rd_ptr);
    wire       push  = s_valid_i && s_ready_o;
    wire       pop   = m_valid_o && m_ready_i;

    assign s_ready_o = !full;
    assign m_valid_o = !empty;
    assign {m_last_o, m_data_o} = mem[rd_ptr[AW-1:0]];
    assign level_o   = wr_ptr - rd_ptr;

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr <= 0;
            rd_ptr <= 0;
        end else begin
            if (push) begin
                mem[wr_ptr[AW-1:0]] <= {s_last_i, s_data_i};
                wr_ptr <= wr_ptr + 1'b1;
            end
            if (pop) rd_ptr <= rd_ptr + 1'b1;
        end
    end

    always @(posedge clk) begin
        if (finish_i) $finish;
        if (stop_i) $stop;
    end
endmodule
`default_nettype wire
