/**
 * Memory layout of the quantizer kernels' WebAssembly instance (byte offsets; one 64 KiB page).
 * RES: results scratch; LAUX/LI: candidate levels of one search (u8 / i32); SC, MN: per
 * sub-block scales and mins (f32); RD, RM: per sub-block re-quantization scale and min (f32);
 * X: one super-block of input (256 f32); W: search weights (32 f32); L: levels (256 u8).
 * IN / OUT: a chunk of CHUNK input floats and its quantized bytes (row kernels).
 */
export const RES = 0;
export const LAUX = 64;
export const LI = 128;
export const SC = 256;
export const MN = 320;
export const RD = 384;
export const RM = 448;
export const X = 1024;
export const W = 2048;
export const L = 3072;
export const CHUNK = 32768;
export const IN = 65536;
export const OUT = IN + 4 * CHUNK;
/** Pages of 64 KiB. */
export const PAGES = 4;
