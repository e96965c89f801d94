// name: apply_adagrad_da
// in: T grad, T lr, T l1, T l2, int64 global_step
// inout: T var, T gradient_accumulator, T gradient_squared_accumulator
// TF1 ApplyAdagradDA: g += grad; gg += grad^2; with t = global_step,
// var = -lr * sign(g) * max(|g| - t * l1, 0) / (t * l2 * lr + sqrt(gg))  (-lr * g / (...) when l1 <= 0)
gradient_accumulator += grad;
gradient_squared_accumulator += grad * grad;
const T step = T(global_step);
const T g = gradient_accumulator;
const T sign = g > T(0) ? T(1) : (g < T(0) ? T(-1) : T(0));
const T shrunk = l1 > T(0) ? sign * fmax(fabs(g) - step * l1, T(0)) : g;
var = -lr * shrunk / (step * l2 * lr + sqrt(gradient_squared_accumulator));
