"""scikit-learn estimators built on gradlab: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in replacements for ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` (same parameters, defaults,
fitted attributes and behaviour), trained with gradlab's modules, autograd and optimizers, plus a few extras
(more activations, dropout, batch norm, L1, RMSprop, class weights, validation curves) and pickle-free
:meth:`~MLPClassifier.save` / :func:`load`.

>>> from gradlab.estimators import MLPClassifier
>>> X_train = [[0., 0.], [1., 1.], [0., 1.], [1., 0.]]; Y_train = [0, 1, 1, 0]
>>> mlp = MLPClassifier(hidden_layer_sizes=(5, 2), activation='logistic', max_iter=5)
>>> import warnings; warnings.simplefilter("ignore")  # 5 epochs do not converge
>>> mlp.fit(X_train, Y_train).predict([[1., 1.]]).shape
(1,)
"""
from ._base import load, save
from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "load", "save"]
