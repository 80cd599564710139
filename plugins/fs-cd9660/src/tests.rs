//! Whole-volume tests on images built in memory.
