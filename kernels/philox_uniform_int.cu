// name: philox_uniform_int
// in: uint32 key0, uint32 key1, uint32 ctr0, uint32 ctr1, uint32 ctr2, uint32 ctr3, T lo, T hi
// out: T out
// TF's RandomUniformInt: lo + bits % (hi - lo), the range taken unsigned (lo < hi is checked by the op).
// int32: element i is word i % 4 of block i / 4; int64: block i / 2, words (0, 1) or (2, 3), low word first.
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
  const unsigned long long bits = lane == 0 ? ((unsigned long long)c1 << 32) | c0 : ((unsigned long long)c3 << 32) | c2;
  const unsigned long long span = (unsigned long long)(long long)hi - (unsigned long long)(long long)lo;
  out = (T)(long long)((unsigned long long)(long long)lo + bits % (span > 0 ? span : 1ull));
} else {
  const unsigned int w = lane == 0 ? c0 : lane == 1 ? c1 : lane == 2 ? c2 : c3;
  const unsigned int span = (unsigned int)hi - (unsigned int)lo;
  out = (T)(int)((unsigned int)lo + w % (span > 0 ? span : 1u));
}
