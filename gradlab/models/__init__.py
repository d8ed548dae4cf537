"""Ready networks, by class or by name through the registry (``build_model('mlp', hidden=(256,))``).

>>> from gradlab.models import build_model, list_models
>>> "mlp" in list_models()
True
>>> type(build_model("mlp", hidden=(8,))).__name__
'MLP'
"""
from gradlab.models.mlp import ACTIVATIONS, MLP, make_activation
from gradlab.models.registry import build_model, get_model_builder, list_models, register_model, unregister_model

__all__ = [
    "MLP", "ACTIVATIONS", "make_activation", "build_model", "register_model", "unregister_model", "list_models",
    "get_model_builder",
]

from gradlab.models.cnn import LeNet5, SimpleCNN  # noqa: E402  (registers 'lenet5' and 'cnn')

__all__ += ["LeNet5", "SimpleCNN"]

from gradlab.models.rnn import CharLSTM, SequenceClassifier, sample  # noqa: E402  (registers 'lstm', 'gru', 'charlstm')

__all__ += ["SequenceClassifier", "CharLSTM", "sample"]

from gradlab.models.transformer import CharTransformer  # noqa: E402  (registers 'transformer')

__all__ += ["CharTransformer"]

# the network zoo (issue 17); each registers its names ('perceptron', 'rbf', 'ae', 'dae', 'sae', 'vae', 'gan')
from gradlab.models.autoencoder import AutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder  # noqa: E402
from gradlab.models.gan import GAN  # noqa: E402
from gradlab.models.perceptron import Perceptron  # noqa: E402
from gradlab.models.rbf import RBFNetwork  # noqa: E402
from gradlab.models.vae import VAE  # noqa: E402

__all__ += ["Perceptron", "RBFNetwork", "AutoEncoder", "DenoisingAutoEncoder", "SparseAutoEncoder", "VAE", "GAN"]
