"""Forecasting many series: windows with per-window scaling, baselines, the hybrid
baseline + network forecaster, seasons, backtests and prediction intervals."""
