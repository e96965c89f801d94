// name: philox_truncated_normal
// in: uint32 key0, uint32 key1, uint32 ctr0, uint32 ctr1, uint32 ctr2, uint32 ctr3
// out: T out
// TF's TruncatedNormal: outputs come in groups of 4 (float) or 2 (double); group g reads its own
// stream from block 256 * g (128 * g for double) and keeps the first Box-Muller normals inside (-2, 2),
// reading on past its reserved blocks as TF's generator does. Each thread walks its group's stream
// up to its own pick, so the per-group rejection is exact. Box-Muller as in philox_normal.cu.
const unsigned long long group = sizeof(T) == 8 ? 2 : 4;
const unsigned long long first = (unsigned long long)i / group * (group * 64);
int skip = (int)((unsigned long long)i % group);  // inside values of the group that come before ours
bool found = false;
for (unsigned long long block = first; !found; ++block) {
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
    for (int k = 0; k < 2 && !found; ++k) {
      const double x = k == 0 ? sin(v1) * u2 : cos(v1) * u2;
      if (x < 2.0 && x > -2.0) {
        found = skip == 0;
        if (found) out = (T)x;
        --skip;
      }
    }
  } else {
    for (int pair = 0; pair < 2 && !found; ++pair) {
      const unsigned int x0 = pair == 0 ? c0 : c2, x1 = pair == 0 ? c1 : c3;
      float u1 = __uint_as_float((x0 & 0x7FFFFFu) | 0x3F800000u) - 1.0f;
      u1 = u1 < 1.0e-7f ? 1.0e-7f : u1;
      const float v1 = (float)(6.283185307179586 * (double)(__uint_as_float((x1 & 0x7FFFFFu) | 0x3F800000u) - 1.0f));
      const float u2 = sqrtf(-2.0f * (float)log((double)u1));
      const double t = tan((double)v1 * 0.5);
      const double t2 = t * t;
      const double inv = 1.0 / (1.0 + t2);
      for (int k = 0; k < 2 && !found; ++k) {
        const float x = (k == 0 ? (float)(2.0 * t * inv) : (float)((1.0 - t2) * inv)) * u2;
        if (x < 2.0f && x > -2.0f) {
          found = skip == 0;
          if (found) out = (T)x;
          --skip;
        }
      }
    }
  }
}
