// name: apply_adam
// in: T beta1_power, T beta2_power, T lr, T beta1, T beta2, T epsilon, T grad
// inout: T var, T m, T v
// TF1 ApplyAdam ("epsilon hat" form): the bias corrections fold into the step size,
// alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t); the beta powers are updated by the caller.
const T alpha = lr * sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
m += (grad - m) * (T(1) - beta1);
v += (grad * grad - v) * (T(1) - beta2);
var -= (m * alpha) / (sqrt(v) + epsilon);
