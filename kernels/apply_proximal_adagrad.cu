// name: apply_proximal_adagrad
// in: T lr, T l1, T l2, T grad
// inout: T var, T accum
// TF1 ApplyProximalAdagrad: accum += grad^2; rate = lr / sqrt(accum); prox = var - grad * rate;
// var = sign(prox) * max(|prox| - rate * l1, 0) / (1 + rate * l2)  (prox / (1 + rate * l2) when l1 <= 0)
accum += grad * grad;
const T rate = lr * (T(1) / sqrt(accum));
const T prox = var - grad * rate;
const T sign = prox > T(0) ? T(1) : (prox < T(0) ? T(-1) : T(0));
const T shrunk = l1 > T(0) ? sign * fmax(fabs(prox) - rate * l1, T(0)) : prox;
var = shrunk / (T(1) + rate * l2);
