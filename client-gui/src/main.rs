//! The `ququ` binary: the desktop messenger. Everything lives in the library so the simulator tests can
//! drive the same code.

fn main() -> iced::Result {
    ququ::run()
}
