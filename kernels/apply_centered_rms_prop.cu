// name: apply_centered_rms_prop
// in: T lr, T rho, T momentum, T epsilon, T grad
// inout: T var, T mg, T ms, T mom
// TF1 ApplyCenteredRMSProp: as RMSProp, but the mean square is centred by the
// running mean gradient mg: denom = ms - mg^2 + epsilon
ms += (grad * grad - ms) * (T(1) - rho);
mg += (grad - mg) * (T(1) - rho);
const T denom = (ms - mg * mg) + epsilon;
mom = mom * momentum + (grad * lr) / sqrt(denom);
var -= mom;
