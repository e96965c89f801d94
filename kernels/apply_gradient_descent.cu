// name: apply_gradient_descent
// in: T alpha, T delta
// inout: T var
// TF1 ApplyGradientDescent: var -= delta * alpha
var -= delta * alpha;
