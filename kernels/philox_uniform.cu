// name: philox_uniform
// in: uint32 key0, uint32 key1, uint32 ctr0, uint32 ctr1, uint32 ctr2, uint32 ctr3, bool half_precision
// out: T out
// TF's RandomUniform (random_distributions.h) on its Philox4x32-10 stream, one element per thread.
// float: element i is word i % 4 of block i / 4, 23 random mantissa bits in [1, 2) minus 1.
// double: element i is block i / 2, words (0, 1) or (2, 3): 20 + 32 mantissa bits.
// half_precision (T = float): TF's Uint16ToHalf keeps 10 bits; the float built from them is the half's
// exact value, rounded to float16 by the caller.
const unsigned long long per_block = sizeof(T) == 8 ? 2 : 4;
const unsigned long long block = (unsigned long long)i / per_block;
const unsigned int lane = (unsigned int)((unsigned long long)i % per_block);
// Philox4x32-10 block for the 128-bit counter (ctr3, ctr2, ctr1, ctr0) + block, key (key1, key0).
const unsigned long long low = (((unsigned long long)ctr1 << 32) | ctr0) + block;
const unsigned int carry = low < block ? 1u : 0u;  // the 64-bit add wrapped: carry into the upper half
unsigned int c0 = (unsigned int)low, c1 = (unsigned int)(low >> 32);
unsigned int c2 = ctr2 + carry;
unsigned int c3 = ctr3 + (c2 < carry ? 1u : 0u);
unsigned int k0 = key0, k1 = key1;
for (int r = 0; r < 10; ++r) {
  const unsigned int hi0 = __umulhi(c0, 0xD2511F53u), lo0 = c0 * 0xD2511F53u;
  const unsigned int hi1 = __umulhi(c2, 0xCD9E8D57u), lo1 = c2 * 0xCD9E8D57u;
  c0 = hi1 ^ c1 ^ k0;
  c1 = lo1;
  c2 = hi0 ^ c3 ^ k1;
  c3 = lo0;
  k0 += 0x9E3779B9u;
  k1 += 0xBB67AE85u;
}
if (sizeof(T) == 8) {
  const unsigned int hi = lane == 0 ? c0 : c2, lo = lane == 0 ? c1 : c3;
  const unsigned long long bits = ((unsigned long long)(hi & 0xFFFFFu) << 32) | lo | (1023ull << 52);
  out = (T)(__longlong_as_double((long long)bits) - 1.0);
} else {
  const unsigned int w = lane == 0 ? c0 : lane == 1 ? c1 : lane == 2 ? c2 : c3;
  const unsigned int mantissa = half_precision ? (w & 0x3FFu) << 13 : w & 0x7FFFFFu;
  out = (T)(__uint_as_float(mantissa | 0x3F800000u) - 1.0f);
}
