//! The `ququ` binary: the desktop messenger. Everything lives in the library so the simulator tests can
//! drive the same code.

// A release build on Windows is a GUI program: no console window opens beside it. Debug builds keep the
// console for their log output.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

fn main() -> iced::Result {
    ququ::run()
}
