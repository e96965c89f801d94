// name: philox_normal
// in: uint32 key0, uint32 key1, uint32 ctr0, uint32 ctr1, uint32 ctr2, uint32 ctr3
// out: T out
// TF's RandomStandardNormal: Box-Muller on Philox4x32-10 words, sine first, one element per thread.
// float: words (0, 1) of block i / 4 give elements 0, 1 of the block, words (2, 3) elements 2, 3. The
// log and the sine/cosine (from one tangent of the half angle) run in double and round once to float,
// as gpugraph.ops.philox does, so the float result equals the host's.
// double: block i / 2: words (0, 1) make u1, (2, 3) the angle; element 0 the sine, 1 the cosine.
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
  const unsigned long long one = 1023ull << 52;
  double u1 = __longlong_as_double((long long)(((unsigned long long)(c0 & 0xFFFFFu) << 32) | c1 | one)) - 1.0;
  u1 = u1 < 1.0e-7 ? 1.0e-7 : u1;
  const double v1 = 6.283185307179586 *
      (__longlong_as_double((long long)(((unsigned long long)(c2 & 0xFFFFFu) << 32) | c3 | one)) - 1.0);
  const double u2 = sqrt(-2.0 * log(u1));
  out = (T)(lane == 0 ? sin(v1) * u2 : cos(v1) * u2);
} else {
  const unsigned int x0 = lane < 2 ? c0 : c2, x1 = lane < 2 ? c1 : c3;
  float u1 = __uint_as_float((x0 & 0x7FFFFFu) | 0x3F800000u) - 1.0f;
  u1 = u1 < 1.0e-7f ? 1.0e-7f : u1;
  const float v1 = (float)(6.283185307179586 * (double)(__uint_as_float((x1 & 0x7FFFFFu) | 0x3F800000u) - 1.0f));
  const float u2 = sqrtf(-2.0f * (float)log((double)u1));
  const double t = tan((double)v1 * 0.5);
  const double t2 = t * t;
  const double inv = 1.0 / (1.0 + t2);
  out = (T)((lane % 2 == 0 ? (float)(2.0 * t * inv) : (float)((1.0 - t2) * inv)) * u2);
}
