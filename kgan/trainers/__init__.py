"""Trainers: small `keras.Model`s whose `train_step` plays D against G, trained with `fit`."""

from kgan.trainers.base import GAN
from kgan.trainers.dcgan import DCGAN
from kgan.trainers.one_step import OneStepGAN
from kgan.trainers.wgan_gp import WGANGP

__all__ = ["GAN", "DCGAN", "OneStepGAN", "WGANGP"]
