// name: apply_adadelta
// in: T lr, T rho, T epsilon, T grad
// inout: T var, T accum, T accum_update
// TF1 ApplyAdadelta: accum = rho * accum + (1 - rho) * grad^2;
// update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * grad; var -= lr * update;
// accum_update = rho * accum_update + (1 - rho) * update^2
accum = accum * rho + grad * grad * (T(1) - rho);
const T update = sqrt(accum_update + epsilon) * (T(1) / sqrt(accum + epsilon)) * grad;
var -= update * lr;
accum_update = accum_update * rho + update * update * (T(1) - rho);
