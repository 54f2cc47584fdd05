//! Guanxi web layer (in progress).
