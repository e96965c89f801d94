// name: apply_ftrl
// in: T grad, T lr, T l1, T l2, T lr_power
// inout: T var, T accum, T linear
// TF1 ApplyFtrl: new_accum = accum + grad^2;
// linear += grad - (new_accum^-lr_power - accum^-lr_power) / lr * var (sqrt when lr_power == -0.5);
// var = |linear| > l1 ? (sign(linear) * l1 - linear) / (new_accum^-lr_power / lr + 2 * l2) : 0
const bool root = lr_power == T(-0.5);
const T new_accum = accum + grad * grad;
const T new_pow = root ? sqrt(new_accum) : pow(new_accum, -lr_power);
const T old_pow = root ? sqrt(accum) : pow(accum, -lr_power);
linear += grad - (new_pow - old_pow) / lr * var;
const T sign = linear > T(0) ? T(1) : (linear < T(0) ? T(-1) : T(0));
const T quadratic = new_pow / lr + T(2) * l2;
var = fabs(linear) > l1 ? (l1 * sign - linear) / quadratic : T(0);
accum = new_accum;
