// name: apply_adagrad
// in: T lr, T grad
// inout: T var, T accum
// TF1 ApplyAdagrad: accum += grad^2; var -= grad * lr / sqrt(accum)
// (1 / sqrt rather than rsqrt: correctly rounded, so it equals the NumPy twin)
accum += grad * grad;
var -= grad * lr * (T(1) / sqrt(accum));
