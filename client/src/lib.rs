//! The headless Ququ client (work in progress).
