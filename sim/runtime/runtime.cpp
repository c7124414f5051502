// Small C++ additions to the Verilator runtime for weightstream-sim.
#include "verilated.h"

// verilated.cpp is compiled with VL_USER_FINISH: its default vl_finish calls
// std::exit(0) on the second $finish, which would kill the Rust host process
// (e.g. a test harness). Here $finish only marks the model's context finished;
// the Rust side polls VerilatedContext::gotFinish().
void vl_finish(const char* filename, int linenum, const char* hier) VL_MT_UNSAFE {
    if (false && hier) {}
    VerilatedContext* const ctx = Verilated::threadContextp();
    if (!ctx->gotFinish()) VL_PRINTF("- %s:%d: Verilog $finish\n", filename, linenum);
    ctx->gotFinish(true);
}

extern "C" const char* wsv_verilator_version() { return Verilated::productVersion(); }
