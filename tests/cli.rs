//! The command line on bad input: one clear line naming the file and the problem, non-zero exit,
//! never a panic or a backtrace.

use crate::util::cli;

fn fails_with(args: &[&str], needles: &[&str]) {
    let out = cli().args(args).env("RUST_BACKTRACE", "1").output().unwrap();
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: {err:?} lacks {n:?}");
    }
}

#[test]
fn bad_inputs_give_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    std::fs::write(p("junk.pth"), b"\x80\x02this is not a pickle at all").unwrap();
    std::fs::write(p("text.bin"), b"just text").unwrap();
    std::fs::write(p("zip.pth"), b"PK\x03\x04truncated").unwrap();
    fails_with(&["report", "--model", &p("missing.pth")], &["missing.pth", "cannot read"]);
    fails_with(&["report", "--model", &p("junk.pth")], &["junk.pth"]);
    fails_with(&["report", "--model", &p("text.bin")], &["text.bin", "not a checkpoint"]);
    fails_with(&["report", "--model", &p("zip.pth")], &["zip.pth"]);
    fails_with(&["report", "--model", "synthetic:alexnet"], &["unknown model"]);
    fails_with(&["report", "--model", "synthetic:mobilenet_v2", "--sparsity", "1.5"], &["sparsity"]);
    fails_with(&["report", "--model", "synthetic:mobilenet_v2", "--bits", "1"], &["bits"]);
    fails_with(&["report", "--model", "synthetic:mobilenet_v2", "--bus-bits", "12"], &["bus bits"]);
    fails_with(&["check", &p("nowhere")], &["nowhere"]);
}

#[test]
fn layers_lists_matrices_and_remainder() {
    let out = cli().args(["layers", "--model", "synthetic:resnet18"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("conv1.weight") && text.contains("layer 64 x 147"), "{text}");
    assert!(text.contains("fc.bias") && text.contains("dense remainder"));
    assert!(text.contains("11689512 parameters"));
}
