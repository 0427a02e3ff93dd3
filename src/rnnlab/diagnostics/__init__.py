"""Seeing vanishing and exploding gradients: temporal gradient components, Jacobian
norms across time, the spectrum of W_hh (plots in rnnlab.diagnostics.plots)."""

from rnnlab.diagnostics.jacobians import (
    JacobianNorms,
    Spectrum,
    elman_rate,
    jacobian_norms,
    jacobian_products,
    spectrum,
    step_jacobians,
)
from rnnlab.diagnostics.temporal import (
    TemporalNorms,
    Term,
    layer_norms,
    layer_terms,
    model_terms,
    temporal_components,
    temporal_norms,
    weighted_gradient,
)

__all__ = [
    "JacobianNorms",
    "Spectrum",
    "TemporalNorms",
    "Term",
    "elman_rate",
    "jacobian_norms",
    "jacobian_products",
    "layer_norms",
    "layer_terms",
    "model_terms",
    "spectrum",
    "step_jacobians",
    "temporal_components",
    "temporal_norms",
    "weighted_gradient",
]
