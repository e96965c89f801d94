// name: apply_ftrl_v2
// in: T grad, T lr, T l1, T l2, T l2_shrinkage, T lr_power
// inout: T var, T accum, T linear
// TF1 ApplyFtrlV2: ApplyFtrl whose linear term takes grad + 2 * l2_shrinkage * var
// (the accumulator still sums the plain grad^2)
const bool root = lr_power == T(-0.5);
const T shrunk_grad = grad + T(2) * l2_shrinkage * var;
const T new_accum = accum + grad * grad;
const T new_pow = root ? sqrt(new_accum) : pow(new_accum, -lr_power);
const T old_pow = root ? sqrt(accum) : pow(accum, -lr_power);
linear += shrunk_grad - (new_pow - old_pow) / lr * var;
const T sign = linear > T(0) ? T(1) : (linear < T(0) ? T(-1) : T(0));
const T quadratic = new_pow / lr + T(2) * l2;
var = fabs(linear) > l1 ? (l1 * sign - linear) / quadratic : T(0);
accum = new_accum;
