// name: apply_proximal_gradient_descent
// in: T alpha, T l1, T l2, T delta
// inout: T var
// TF1 ApplyProximalGradientDescent: prox = var - alpha * delta;
// var = sign(prox) * max(|prox| - alpha * l1, 0) / (1 + alpha * l2)  (prox / (1 + alpha * l2) when l1 <= 0)
const T prox = var - delta * alpha;
const T sign = prox > T(0) ? T(1) : (prox < T(0) ? T(-1) : T(0));
const T shrunk = l1 > T(0) ? sign * fmax(fabs(prox) - alpha * l1, T(0)) : prox;
var = shrunk / (T(1) + alpha * l2);
