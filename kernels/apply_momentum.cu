// name: apply_momentum
// in: T lr, T grad, T momentum, bool use_nesterov
// inout: T var, T accum
// TF1 ApplyMomentum: accum = accum * momentum + grad;
// var -= accum * lr, or with Nesterov var -= grad * lr + accum * momentum * lr
accum = accum * momentum + grad;
if (use_nesterov) {
  var -= grad * lr + accum * momentum * lr;
} else {
  var -= accum * lr;
}
