// name: apply_rms_prop
// in: T lr, T rho, T momentum, T epsilon, T grad
// inout: T var, T ms, T mom
// TF1 ApplyRMSProp: ms += (grad^2 - ms) * (1 - rho);
// mom = mom * momentum + grad * lr / sqrt(ms + epsilon); var -= mom
ms += (grad * grad - ms) * (T(1) - rho);
mom = mom * momentum + (grad * lr) / sqrt(ms + epsilon);
var -= mom;
