"""Image-to-image translation by an OT flow in an autoencoder's latent space (docs/method.md §5).

>>> from otcore.images import AEConfig, BUILTIN, fit_translator
>>> a, gallery_a = BUILTIN["digit 3"]()
>>> b, gallery_b = BUILTIN["digit 8"]()
>>> tr = fit_translator(a.images, b.images, AEConfig())        # autoencoder, then the latent flow
>>> eights = tr.translate(gallery_a.images)                     # 3 → 8
>>> frames = tr.frames(gallery_a.images, [0, .25, .5, .75, 1])  # (5, n, 1, 8, 8): the scrub
>>> threes = tr.translate(gallery_b.images, reverse=True)      # 8 → 3
"""
from .autoencoder import AEConfig, AutoencoderFileError, AutoencoderTrainer, ImageAutoencoder
from .domains import (BUILTIN, DigitsSplit, ImageDomain, ImageLoadError, decode_image, digits_domain, digits_split,
                      load_domain, photo_patches, resolve_domain, split_gallery)
from .judge import DigitJudge, DirectionReport, judge_direction
from .shape_measure import ShapeDirection, ShapeReport, judge_shapes, measure_direction, measure_shapes
from .shapes import SHAPES, ShapeSet, draw_shapes, shape_parts
from .spread import diversity, mean_pairwise_distance, reconstruction_error
from .translate import (LATENT_FLOW, FolderResult, LatentTranslator, crossfade, fit_translator, latent_flow_config,
                        latent_trainer, nearest_images, translate_folder)

__all__ = [
    "AEConfig", "AutoencoderFileError", "AutoencoderTrainer", "ImageAutoencoder", "BUILTIN", "DigitsSplit",
    "ImageDomain", "ImageLoadError", "decode_image", "digits_domain", "digits_split", "load_domain",
    "photo_patches", "resolve_domain", "split_gallery", "DigitJudge", "DirectionReport", "judge_direction",
    "ShapeDirection", "ShapeReport", "judge_shapes", "measure_direction", "measure_shapes", "SHAPES", "ShapeSet",
    "draw_shapes", "shape_parts", "diversity", "mean_pairwise_distance", "reconstruction_error",
    "LATENT_FLOW", "FolderResult", "LatentTranslator", "crossfade", "fit_translator", "latent_flow_config",
    "latent_trainer", "nearest_images", "translate_folder",
]
